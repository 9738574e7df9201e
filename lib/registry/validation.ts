/**
 * Field validation that reports failures in the wording of the original gateway's Go validator,
 * because clients match on it: `Key: 'Subscription.Type' Error:Field validation for 'Type' failed on
 * the 'required' tag`, one line per failed field.
 */

/** One rule of a field: the validator tag and its test. */
export type Rule = readonly [tag: string, test: (value: unknown) => boolean];

/** A field to check: its Go-style name, its value and its rules in order (the first failing one is reported). */
export type FieldCheck = readonly [field: string, value: unknown, rules: readonly Rule[]];

const NAME_PATTERN = /^[a-zA-Z0-9.\-_]+$/;

const isPresent = (v: unknown): boolean => v !== undefined && v !== null && v !== '';
const matchesName = (v: unknown): boolean => typeof v === 'string' && NAME_PATTERN.test(v);

/** The rules shared by several resources. */
export const rules = {
  required: ['required', isPresent] as Rule,
  /** The validator names the failed tag, not its parameter: `failed on the 'min' tag`, as the contract has it. */
  minLength: (n: number): Rule => ['min', (v) => typeof v === 'string' && v.length >= n],
  space: ['space', matchesName] as Rule,
  functionId: ['functionid', matchesName] as Rule,
  eventType: ['eventType', matchesName] as Rule,
  urlPath: ['urlPath', (v) => typeof v === 'string' && v.startsWith('/') && !/[\s?#]/.test(v)] as Rule,
  oneOf: (values: readonly string[]): Rule => [values.map((x) => `eq=${x}`).join('|'), (v) => typeof v === 'string' && values.includes(v)],
  url: ['url', (v) => typeof v === 'string' && isAbsoluteUrl(v)] as Rule,
  /** Applies `rule` only when the value is present, like the Go tag `omitempty`. */
  optional: (rule: Rule): Rule => [rule[0], (v) => !isPresent(v) || rule[1](v)],
};

/** The validator detail for the failed fields, or undefined when every field passes. */
export function checkFields(resource: string, fields: readonly FieldCheck[]): string | undefined {
  const failures: string[] = [];
  for (const [field, value, fieldRules] of fields) {
    const failed = fieldRules.find(([, test]) => !test(value));
    if (failed) failures.push(fieldFailure(resource, field, failed[0]));
  }
  return failures.length > 0 ? failures.join('\n') : undefined;
}

/** One failure line in the Go validator's wording. */
export function fieldFailure(resource: string, field: string, tag: string): string {
  return `Key: '${resource}.${field}' Error:Field validation for '${field}' failed on the '${tag}' tag`;
}

function isAbsoluteUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** JSON value kinds, named as Go's decoder names them in its type errors. */
function goKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  return typeof value === 'boolean' ? 'bool' : typeof value;
}

/** Expected JSON types of a body's fields. */
export type Shape = Record<string, 'string' | 'boolean' | 'object' | 'string[]' | 'stringMap'>;

/**
 * Checks the JSON types of the known fields of a body, as Go's `json.Unmarshal` would before any rule
 * runs; returns the decoder-style message of the first mismatch. Unknown fields are ignored, as there.
 */
export function checkShape(goStruct: string, body: Record<string, unknown>, shape: Shape): string | undefined {
  for (const [key, expected] of Object.entries(shape)) {
    const value = body[key];
    if (value === undefined || value === null) continue;
    if (!hasShape(value, expected)) {
      return `json: cannot unmarshal ${goKind(value)} into Go struct field ${goStruct}.${key} of type ${goTypeName(expected)}`;
    }
  }
  return undefined;
}

function hasShape(value: unknown, expected: Shape[string]): boolean {
  switch (expected) {
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'stringMap':
      return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
    default: {
      const unhandled: never = expected;
      throw new Error(`unknown shape ${String(unhandled)}`);
    }
  }
}

function goTypeName(expected: Shape[string]): string {
  switch (expected) {
    case 'string[]':
      return '[]string';
    case 'stringMap':
      return 'map[string]string';
    case 'object':
      return 'map[string]interface {}';
    case 'boolean':
      return 'bool';
    default:
      return expected;
  }
}
