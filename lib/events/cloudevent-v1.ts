import { isUriReference } from './cloudevent';

/**
 * A CloudEvent 1.0 in its JSON format: the four required attributes, the optional ones, `data` or
 * `data_base64`, and extensions as further top-level attributes.
 */
export interface CloudEventV1 {
  specversion: string;
  id: string;
  source: string;
  type: string;
  datacontenttype?: string;
  dataschema?: string;
  subject?: string;
  time?: string;
  data?: unknown;
  data_base64?: string;
  [extension: string]: unknown;
}

/** The only 1.0 spec version this gateway speaks. */
export const SPEC_VERSION_V1 = '1.0';

/** Attributes 1.0 defines itself; any other attribute is an extension. */
export const V1_ATTRIBUTES = ['specversion', 'id', 'source', 'type', 'datacontenttype', 'dataschema', 'subject', 'time'] as const;

/** Attribute and extension names: lower-case ASCII letters and digits (spec 1.0, "Attribute Naming Convention"). */
export const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

/**
 * The extension carrying an authorizer's answer on a 1.0 event, as a JSON string: 1.0 extension values
 * are scalars and the name must be lower-case alphanumerics, so 0.1's nested
 * `extensions.eventgateway.authorization` object cannot be used.
 */
export const AUTHORIZATION_EXTENSION = 'eventgatewayauthorization';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function failure(field: string, tag: string): string {
  return `Key: 'CloudEvent.${field}' Error:Field validation for '${field}' failed on the '${tag}' tag`;
}

/**
 * Checks a value against CloudEvents 1.0 (JSON format); returns the validator-style detail of each
 * failed attribute, or undefined when it is a valid event.
 */
export function validateCloudEventV1(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the event must be a JSON object';
  const event = value as Record<string, unknown>;
  const failures: string[] = [];
  const present = (key: string) => typeof event[key] === 'string' && event[key] !== '';
  if (!present('specversion')) failures.push(failure('specversion', 'required'));
  else if (event.specversion !== SPEC_VERSION_V1) failures.push(failure('specversion', `eq=${SPEC_VERSION_V1}`));
  if (!present('id')) failures.push(failure('id', 'required'));
  if (!present('source')) failures.push(failure('source', 'required'));
  else if (!isUriReference(event.source as string)) failures.push(failure('source', 'uri'));
  if (!present('type')) failures.push(failure('type', 'required'));
  for (const key of ['datacontenttype', 'dataschema', 'subject', 'time'] as const) {
    if (event[key] !== undefined && typeof event[key] !== 'string') failures.push(failure(key, 'string'));
  }
  if (typeof event.time === 'string' && !RFC3339.test(event.time)) failures.push(failure('time', 'rfc3339'));
  if (typeof event.dataschema === 'string' && !isUriReference(event.dataschema)) failures.push(failure('dataschema', 'uri'));
  if (event.data !== undefined && event.data_base64 !== undefined) failures.push(failure('data_base64', 'excluded_with=data'));
  if (event.data_base64 !== undefined && (typeof event.data_base64 !== 'string' || !BASE64.test(event.data_base64))) {
    failures.push(failure('data_base64', 'base64'));
  }
  for (const [name, ext] of Object.entries(event)) {
    if (name === 'data' || name === 'data_base64' || (V1_ATTRIBUTES as readonly string[]).includes(name)) continue;
    if (!ATTRIBUTE_NAME.test(name)) failures.push(failure(name, 'name'));
    else if (ext !== null && typeof ext === 'object') failures.push(failure(name, 'scalar'));
  }
  return failures.length > 0 ? failures.join('\n') : undefined;
}
