import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/** A JSON Schema (draft 2020-12) for an event type's `data`: an object, or `true`/`false`. */
export type DataSchema = Record<string, unknown> | boolean;

/** Checks an event's data; returns the failure in ajv's words (`data/amount must be number`), or undefined. */
export type DataValidator = (data: unknown) => string | undefined;

// One ajv for the process. `addUsedSchema: false` keeps two event types with the same `$id` apart;
// `strict: false` lets schemas carry annotations ajv does not know (`example`, vendor keywords).
const ajv = new Ajv2020({ strict: false, allErrors: false, addUsedSchema: false });
addFormats(ajv);

/** Compiled validators by schema text: a table rebuilt after an unrelated change reuses them. */
const compiled = new Map<string, DataValidator>();
const MAX_COMPILED = 10_000;

function describe(errors: ErrorObject[] | null | undefined): string {
  return ajv.errorsText(errors, { dataVar: 'data', separator: '; ' });
}

/** The first failure of a schema against the draft 2020-12 meta-schema, with its place in the schema (`type must be …`). */
function metaSchemaFailure(errors: ErrorObject[] | null | undefined): string {
  const first = errors?.[0];
  if (!first) return 'is not a valid JSON Schema';
  const place = first.instancePath.replace(/^\//, '');
  return `${place === '' ? '' : `${place} `}${first.message ?? 'is invalid'}`;
}

/** Why a schema cannot be used (not draft 2020-12, an unresolvable `$ref`, …), or undefined when it can. */
export function schemaProblem(schema: unknown): string | undefined {
  if (typeof schema !== 'boolean' && (typeof schema !== 'object' || schema === null || Array.isArray(schema))) {
    return 'must be a JSON Schema object or a boolean';
  }
  if (!ajv.validateSchema(schema as DataSchema)) return metaSchemaFailure(ajv.errors);
  try {
    validatorFor(schema as DataSchema);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The validator of a schema, compiled once per distinct schema text. Throws when the schema cannot compile. */
export function validatorFor(schema: DataSchema): DataValidator {
  const key = JSON.stringify(schema);
  const known = compiled.get(key);
  if (known) return known;
  const validate: ValidateFunction = ajv.compile(schema);
  // ajv keeps schemas it compiled keyed by the object; this one is ours to keep (by text) instead.
  if (typeof schema === 'object') ajv.removeSchema(schema);
  const validator: DataValidator = (data) => (validate(data) ? undefined : describe(validate.errors));
  // The cache is bounded: past its size it starts again rather than grow with every schema ever seen.
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(key, validator);
  return validator;
}
