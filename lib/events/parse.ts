import { randomUUID } from 'node:crypto';
import { ValidationError } from '../errors';
import {
  GATEWAY_SOURCE,
  HTTP_REQUEST_EVENT,
  TRANSFORMED_EXTENSION,
  validateCloudEventV01,
  type CloudEventV01,
} from './cloudevent';
import { canonicalHeaderName, headerValue, type IncomingRequest } from './request';

/** The `data` of an `http.request` event: the request as the original gateway describes it. */
export interface HttpRequestData {
  path: string;
  method: string;
  headers: Record<string, string>;
  host: string;
  query: Record<string, string[]>;
  params: Record<string, string>;
  body: unknown;
}

/** The media type of a Content-Type header, lower-cased and without parameters. */
export function mediaType(contentType: string | undefined): string {
  if (!contentType) return 'application/octet-stream';
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

export function isJsonMediaType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

/**
 * A body as event data: JSON becomes a value, forms become a string, anything else stays bytes (sent
 * to targets base64-encoded). A JSON body that does not parse is kept as bytes rather than lost.
 */
export function normaliseData(contentType: string | undefined, body: Buffer): unknown {
  const type = mediaType(contentType);
  if (body.length === 0) return isJsonMediaType(type) ? null : '';
  if (isJsonMediaType(type)) {
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      return body.toString('base64');
    }
  }
  if (type === 'multipart/form-data' || type === 'application/x-www-form-urlencoded') return body.toString('utf8');
  return body.toString('base64');
}

/** Turns a request into the event it carries, by the contract's rules in order. */
export function eventFromRequest(req: IncomingRequest): CloudEventV01 {
  const contentType = headerValue(req.headers, 'content-type');
  if (mediaType(contentType) === 'application/cloudevents+json') return structuredEvent(req.body);
  if (hasBinaryHeaders(req)) return binaryEvent(req, contentType);
  const legacyType = headerValue(req.headers, 'event');
  if (legacyType) return legacyEvent(legacyType, req.body, contentType);
  return httpRequestEvent(req, contentType);
}

function structuredEvent(body: Buffer): CloudEventV01 {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new ValidationError(`CloudEvent doesn't validate: malformed JSON body (${(err as Error).message})`);
  }
  const detail = validateCloudEventV01(value);
  if (detail) throw new ValidationError(`CloudEvent doesn't validate: ${detail}`);
  return value as CloudEventV01;
}

const BINARY_HEADERS = ['ce-eventtype', 'ce-cloudeventsversion', 'ce-source', 'ce-eventid'];

function hasBinaryHeaders(req: IncomingRequest): boolean {
  return BINARY_HEADERS.every((h) => req.headers[h] !== undefined);
}

function binaryEvent(req: IncomingRequest, contentType: string | undefined): CloudEventV01 {
  const h = (name: string) => headerValue(req.headers, name);
  const extensions: Record<string, unknown> = {};
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith('ce-x-')) extensions[name.slice(5)] = h(name);
  }
  const event: CloudEventV01 = {
    eventType: h('ce-eventtype') ?? '',
    cloudEventsVersion: h('ce-cloudeventsversion') ?? '',
    source: h('ce-source') ?? '',
    eventID: h('ce-eventid') ?? '',
    ...optional('eventTypeVersion', h('ce-eventtypeversion')),
    ...optional('eventTime', h('ce-eventtime')),
    ...optional('schemaURL', h('ce-schemaurl')),
    ...optional('contentType', contentType),
    ...(Object.keys(extensions).length > 0 ? { extensions } : {}),
    data: normaliseData(contentType, req.body),
  };
  const detail = validateCloudEventV01(event);
  if (detail) throw new ValidationError(`CloudEvent doesn't validate: ${detail}`);
  return event;
}

function legacyEvent(eventType: string, body: Buffer, contentType: string | undefined): CloudEventV01 {
  const data = normaliseData(contentType, body);
  if (isJsonMediaType(mediaType(contentType)) && validateCloudEventV01(data) === undefined) return data as CloudEventV01;
  return gatewayEvent(eventType, data, contentType);
}

function httpRequestEvent(req: IncomingRequest, contentType: string | undefined): CloudEventV01 {
  const data: HttpRequestData = {
    path: req.path,
    method: req.method,
    headers: flattenHeaders(req.headers),
    host: req.host ?? headerValue(req.headers, 'host') ?? '',
    query: parseQuery(req.query),
    params: {},
    body: normaliseData(contentType, req.body),
  };
  return gatewayEvent(HTTP_REQUEST_EVENT, data, 'application/json');
}

/** An event the gateway creates itself, marked as such. */
export function gatewayEvent(eventType: string, data: unknown, contentType: string | undefined): CloudEventV01 {
  return {
    eventType,
    cloudEventsVersion: '0.1',
    source: GATEWAY_SOURCE,
    eventID: randomUUID(),
    eventTime: new Date().toISOString(),
    ...optional('contentType', contentType),
    extensions: structuredClone(TRANSFORMED_EXTENSION),
    data,
  };
}

/** Headers under their canonical names, repeated values joined with `, `. */
export function flattenHeaders(headers: IncomingRequest['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[canonicalHeaderName(name)] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** A query string as a map of key to every value given for it. */
export function parseQuery(query: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (query === '') return out;
  for (const [key, value] of new URLSearchParams(query)) (out[key] ??= []).push(value);
  return out;
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Record<K, string>) : {};
}
