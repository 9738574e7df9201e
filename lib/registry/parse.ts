import { validateFilters, type Filter } from '../events/filter';
import { schemaProblem, type DataSchema } from '../events/schema';
import { transformOf, validateTransform } from '../events/transform';
import { functionTypes, isFunctionType, validateProvider, type FunctionTarget } from '../providers/config';
import { corsId, subscriptionId } from './ids';
import { invalid, type ResourceNames, corsNames, eventTypeNames, functionNames, subscriptionNames } from './resources';
import { CONTENT_MODES, HTTP_METHODS, type CorsConfig, type DeliveryOptions, type EventType, type FunctionRecord, type Metadata, type Subscription, type SubscriptionType } from './types';
import { checkFields, checkShape, rules, type FieldCheck, type Rule, type Shape } from './validation';
import { DEFAULT_RETRY } from '../delivery/retry';
import type { RetryPolicy } from '../delivery/queue';

type Body = Record<string, unknown>;

const spaceCheck = (space: string): FieldCheck => ['Space', space, [rules.required, rules.minLength(3), rules.space]];
const METHOD_RULE = rules.oneOf(HTTP_METHODS);

/** The body as an object, or the contract's "doesn't validate" error in the JSON decoder's words. */
function asObject(body: unknown, names: ResourceNames, goType: string): Body {
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as Body;
  const kind = Array.isArray(body) ? 'array' : body === null ? 'null' : typeof body;
  throw invalid(names, `json: cannot unmarshal ${kind} into Go value of type ${goType}`);
}

function validate(names: ResourceNames, body: Body, shape: Shape, fields: () => FieldCheck[]): void {
  const detail = checkShape(names.struct, body, shape) ?? checkFields(names.struct, fields());
  if (detail) throw invalid(names, detail);
}

/** Metadata to store: omitted when empty, so that responses never carry `{}` or `null`. */
function metadataOf(body: Body): { metadata?: Metadata } {
  const metadata = body.metadata as Metadata | undefined | null;
  return metadata && Object.keys(metadata).length > 0 ? { metadata: { ...metadata } } : {};
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** A path as stored: absolute, `/` when absent. */
export function normalisePath(path: unknown): string {
  const text = str(path);
  if (text === '') return '/';
  return text.startsWith('/') ? text : `/${text}`;
}

/** A method as stored: upper-cased, `POST` when absent. */
function normaliseMethod(method: unknown, fallback: string): string {
  const text = str(method);
  return text === '' ? fallback : text.toUpperCase();
}

/** Validates an event type body (create, or update with the name taken from the URL). */
export function parseEventType(space: string, body: unknown, nameFromUrl?: string): EventType {
  const b = asObject(body, eventTypeNames, 'event.Type');
  const name = nameFromUrl ?? b.name;
  validate(eventTypeNames, b, { name: 'string', authorizerId: 'string', metadata: 'stringMap' }, () => [
    spaceCheck(space),
    ['Name', name, [rules.required, rules.eventType]],
    ['AuthorizerID', b.authorizerId, [rules.optional(rules.functionId)]],
  ]);
  const schema = schemaOf(b.schema);
  const authorizerId = str(b.authorizerId);
  return { space, name: str(name), ...(authorizerId ? { authorizerId } : {}), ...metadataOf(b), ...schema };
}

/** (ext) An event type's schema, checked now so that a broken one is a 400 and never reaches routing. */
function schemaOf(schema: unknown): { schema?: DataSchema } {
  if (schema === undefined || schema === null) return {};
  const problem = schemaProblem(schema);
  if (problem) throw invalid(eventTypeNames, `schema: ${problem}`);
  return { schema: structuredClone(schema as DataSchema) };
}

/** Validates a function body, including its provider config for its type. */
export function parseFunction(space: string, body: unknown, idFromUrl?: string): FunctionRecord {
  const b = asObject(body, functionNames, 'function.Function');
  const functionId = idFromUrl ?? b.functionId;
  validate(functionNames, b, { functionId: 'string', type: 'string', provider: 'object', metadata: 'stringMap' }, () => [
    spaceCheck(space),
    ['ID', functionId, [rules.required, rules.functionId]],
    ['Type', b.type, [rules.required, rules.oneOf(functionTypes)]],
    ['Provider', b.provider, [rules.required]],
  ]);
  const type = b.type;
  if (!isFunctionType(type)) throw invalid(functionNames, `unknown function type "${String(type)}"`);
  const provider = b.provider as Body;
  const detail = validateProvider(type, provider);
  if (detail) throw invalid(functionNames, detail);
  const target = { type, provider: { ...provider } } as unknown as FunctionTarget;
  return { space, functionId: str(functionId), ...target, ...metadataOf(b) };
}

/** Validates a subscription body and derives its ID; validation comes before any existence check. */
export function parseSubscription(space: string, body: unknown): Subscription {
  const b = asObject(body, subscriptionNames, 'subscription.Subscription');
  const shape: Shape = {
    type: 'string',
    eventType: 'string',
    functionId: 'string',
    path: 'string',
    method: 'string',
    metadata: 'stringMap',
    delivery: 'object',
    retry: 'object',
    transform: 'object',
  };
  const path = normalisePath(b.path);
  const method = normaliseMethod(b.method, 'POST');
  validate(subscriptionNames, b, shape, () => [
    spaceCheck(space),
    ['Type', b.type, [rules.required, rules.oneOf(['async', 'sync'])]],
    ['EventType', b.eventType, [rules.required, rules.eventType]],
    ['FunctionID', b.functionId, [rules.required, rules.functionId]],
    ['Path', path, [rules.required, rules.urlPath]],
    ['Method', method, [METHOD_RULE]],
    ...retryChecks(b.retry as Body | undefined),
  ]);
  const extensionProblem = validateFilters(b.filters) ?? validateDelivery(b.delivery) ?? validateTransform(b.transform);
  if (extensionProblem) throw invalid(subscriptionNames, extensionProblem);
  const fields = { type: b.type as SubscriptionType, eventType: str(b.eventType), functionId: str(b.functionId), path, method };
  return { space, subscriptionId: subscriptionId(fields), ...fields, ...retryOf(b.retry as Body | undefined), ...metadataOf(b), ...extensionsOf(b) };
}

const MAX_ATTEMPTS = 1000;
const MAX_AGE_SECONDS = 7 * 24 * 60 * 60;
const intBetween = (min: number, max: number): Rule => [`min=${min},max=${max}`, (v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max];

/** (ext) `retry: {maxAttempts, maxAgeSeconds}`: both optional, whole numbers within bounds. */
function retryChecks(retry: Body | undefined): FieldCheck[] {
  if (!retry) return [];
  return [
    ['Retry.MaxAttempts', retry.maxAttempts, [rules.optional(intBetween(1, MAX_ATTEMPTS))]],
    ['Retry.MaxAgeSeconds', retry.maxAgeSeconds, [rules.optional(intBetween(1, MAX_AGE_SECONDS))]],
  ];
}

function retryOf(retry: Body | undefined): { retry?: RetryPolicy } {
  if (!retry || (retry.maxAttempts === undefined && retry.maxAgeSeconds === undefined)) return {};
  return {
    retry: {
      maxAttempts: (retry.maxAttempts as number | undefined) ?? DEFAULT_RETRY.maxAttempts,
      maxAgeSeconds: (retry.maxAgeSeconds as number | undefined) ?? DEFAULT_RETRY.maxAgeSeconds,
    },
  };
}

function validateDelivery(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const delivery = value as Body;
  for (const key of Object.keys(delivery)) {
    if (key !== 'mode' && key !== 'specversion') return `delivery has unknown field "${key}" (use mode, specversion)`;
  }
  if (delivery.mode !== undefined && !(CONTENT_MODES as readonly unknown[]).includes(delivery.mode)) {
    return `delivery.mode must be one of ${CONTENT_MODES.join(', ')}`;
  }
  if (delivery.specversion !== undefined && delivery.specversion !== '1.0') return 'delivery.specversion must be "1.0"';
  return undefined;
}

/** The (ext) fields to store: omitted when empty, like metadata. */
function extensionsOf(b: Body): Pick<Subscription, 'filters' | 'delivery' | 'transform'> {
  const filters = Array.isArray(b.filters) && b.filters.length > 0 ? { filters: structuredClone(b.filters) as Filter[] } : {};
  const given = (b.delivery ?? {}) as DeliveryOptions;
  const delivery: DeliveryOptions = { ...(given.mode ? { mode: given.mode } : {}), ...(given.specversion ? { specversion: given.specversion } : {}) };
  const transform = transformOf(b.transform);
  return { ...filters, ...(Object.keys(delivery).length > 0 ? { delivery } : {}), ...(transform ? { transform } : {}) };
}

/** Validates a CORS configuration body, filling the contract's defaults, and derives its ID. */
export function parseCors(space: string, body: unknown): CorsConfig {
  const b = asObject(body, corsNames, 'cors.CORS');
  const shape: Shape = {
    method: 'string',
    path: 'string',
    allowedOrigins: 'string[]',
    allowedMethods: 'string[]',
    allowedHeaders: 'string[]',
    allowCredentials: 'boolean',
    metadata: 'stringMap',
  };
  const path = normalisePath(b.path);
  const method = normaliseMethod(b.method, '');
  validate(corsNames, b, shape, () => [
    spaceCheck(space),
    ['Method', method, [rules.required, METHOD_RULE]],
    ['Path', path, [rules.required, rules.urlPath]],
  ]);
  const list = (v: unknown, fallback: string[]): string[] => (Array.isArray(v) && v.length > 0 ? (v as string[]) : fallback);
  return {
    space,
    corsId: corsId({ method, path }),
    method,
    path,
    allowedOrigins: list(b.allowedOrigins, ['*']),
    allowedMethods: list(b.allowedMethods, ['HEAD', 'GET', 'POST']).map((m) => m.toUpperCase()),
    allowedHeaders: list(b.allowedHeaders, ['Origin', 'Accept', 'Content-Type']),
    allowCredentials: b.allowCredentials === true,
    ...metadataOf(b),
  };
}
