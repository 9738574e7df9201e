import { randomUUID } from 'node:crypto';
import { ValidationError } from '../errors';
import {
  GATEWAY_SOURCE,
  HTTP_REQUEST_EVENT,
  TRANSFORMED_EXTENSION,
  validateCloudEventV01,
  type CloudEventV01,
} from './cloudevent';
import type { CloudEvent } from './accessors';
import { validateCloudEventV1, type CloudEventV1 } from './cloudevent-v1';
import { binaryV1Event } from './http-binding';
import { isFormMediaType, isJsonMediaType, mediaType } from './media';
import { canonicalHeaderName, decodeOrKeep, headerValue, type IncomingRequest } from './request';

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

export { isJsonMediaType, mediaType } from './media';

/**
 * A body as event data: JSON becomes a value, forms become a string, anything else stays bytes (sent
 * to targets base64-encoded). A JSON body that does not parse is kept as bytes rather than lost.
 */
export function normaliseData(contentType: string | undefined, body: Buffer): unknown {
  const type = mediaType(contentType);
  // An empty body is "" whatever its type, as the original gave it.
  if (body.length === 0) return '';
  if (isJsonMediaType(type)) {
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      return body.toString('base64');
    }
  }
  if (isFormMediaType(type)) return body.toString('utf8');
  return body.toString('base64');
}

/** The media type of a CloudEvents JSON batch (HTTP binding 1.0, batched content mode). */
export const BATCH_MEDIA_TYPE = 'application/cloudevents-batch+json';

/** One event of a batch: the valid event, or why it was refused (with what could be read of it). */
export type BatchEntry = { event: CloudEventV1 } | { error: string; id?: string; type?: string };

/** What a request carries: one event, or a batch whose events are judged one by one. */
export type RequestEvents = { mode: 'single'; event: CloudEvent } | { mode: 'batch'; entries: BatchEntry[] };

/** Turns a request into the event or the batch of events it carries. */
export function eventsFromRequest(req: IncomingRequest): RequestEvents {
  if (mediaType(headerValue(req.headers, 'content-type')) === BATCH_MEDIA_TYPE) return { mode: 'batch', entries: batchEntries(req.body) };
  return { mode: 'single', event: eventFromRequest(req) };
}

/** Turns a request into the one event it carries, by the contract's rules in order. */
export function eventFromRequest(req: IncomingRequest): CloudEvent {
  const contentType = headerValue(req.headers, 'content-type');
  const type = mediaType(contentType);
  if (type === 'application/cloudevents+json') return structuredEvent(req.body);
  if (type === BATCH_MEDIA_TYPE) throw invalidEvent('a batch carries several events; read it with eventsFromRequest');
  if (req.headers['ce-specversion'] !== undefined) return binaryEventV1(req);
  if (hasBinaryHeaders(req)) return binaryEvent(req, contentType);
  const legacyType = headerValue(req.headers, 'event');
  if (legacyType) return legacyEvent(legacyType, req.body, contentType);
  return httpRequestEvent(req, contentType);
}

function invalidEvent(detail: string): ValidationError {
  return new ValidationError(`CloudEvent doesn't validate: ${detail}`);
}

function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw invalidEvent(`malformed JSON body (${(err as Error).message})`);
  }
}

/**
 * Whether a structured body is meant as 1.0: it says `specversion`, or it has none of 0.1's names but
 * 1.0's (so that a 1.0 event missing `specversion` is told so, not judged as 0.1).
 */
function looksLikeV1(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const keys = value as Record<string, unknown>;
  if ('specversion' in keys) return true;
  return !('cloudEventsVersion' in keys) && !('eventType' in keys) && ('type' in keys || 'id' in keys);
}

function structuredEvent(body: Buffer): CloudEvent {
  return validatedEvent(parseJsonBody(body));
}

/** A JSON value as a structured CloudEvent (0.1 or 1.0), checked as an incoming one is; throws the contract's ValidationError. */
export function validatedEvent(value: unknown): CloudEvent {
  const detail = looksLikeV1(value) ? validateCloudEventV1(value) : validateCloudEventV01(value);
  if (detail) throw invalidEvent(detail);
  return value as CloudEvent;
}

function batchEntries(body: Buffer): BatchEntry[] {
  const value = parseJsonBody(body);
  if (!Array.isArray(value)) throw invalidEvent('a batch must be a JSON array of CloudEvents 1.0');
  if (value.length === 0) throw invalidEvent('the batch is empty');
  return value.map((item: unknown): BatchEntry => {
    const detail = validateCloudEventV1(item);
    if (!detail) return { event: item as CloudEventV1 };
    const known = typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {};
    return {
      error: `CloudEvent doesn't validate: ${detail}`,
      ...(typeof known.id === 'string' ? { id: known.id } : {}),
      ...(typeof known.type === 'string' ? { type: known.type } : {}),
    };
  });
}

function binaryEventV1(req: IncomingRequest): CloudEventV1 {
  let event: CloudEventV1;
  try {
    event = binaryV1Event(req.headers, req.body);
  } catch (err) {
    throw invalidEvent((err as Error).message);
  }
  const detail = validateCloudEventV1(event);
  if (detail) throw invalidEvent(detail);
  return event;
}

const BINARY_HEADERS = ['ce-eventtype', 'ce-cloudeventsversion', 'ce-source', 'ce-eventid'];

function hasBinaryHeaders(req: IncomingRequest): boolean {
  return BINARY_HEADERS.every((h) => req.headers[h] !== undefined);
}

function binaryEvent(req: IncomingRequest, contentType: string | undefined): CloudEventV01 {
  // Absent optional headers read as '', which `optional` leaves out.
  const h = (name: string) => headerValue(req.headers, name) ?? '';
  const extensions: Record<string, unknown> = {};
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith('ce-x-')) extensions[name.slice(5)] = h(name);
  }
  const event: CloudEventV01 = {
    eventType: h('ce-eventtype'),
    cloudEventsVersion: h('ce-cloudeventsversion'),
    source: h('ce-source'),
    eventID: h('ce-eventid'),
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
  return gatewayEvent(HTTP_REQUEST_EVENT, httpRequestData(req, normaliseData(contentType, req.body)), 'application/json');
}

/** The request as `http.request` data, with the body given (authorizers get it without one: `null`). */
export function httpRequestData(req: IncomingRequest, body: unknown): HttpRequestData {
  return {
    // The path as the original's `r.URL.Path` gave it: percent-decoded.
    path: decodeOrKeep(req.path),
    method: req.method,
    headers: flattenHeaders(req.headers),
    host: req.host ?? headerValue(req.headers, 'host') ?? '',
    query: parseQuery(req.query),
    params: {},
    body,
  };
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
    extensions: { eventgateway: { ...TRANSFORMED_EXTENSION.eventgateway } },
    data,
  };
}

/** Headers under their canonical names, repeated values joined with `, `. */
export function flattenHeaders(headers: IncomingRequest['headers']): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[canonicalHeaderName(name)] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** A query string as a map of key to every value given for it. */
export function parseQuery(query: string): Record<string, string[]> {
  // No prototype: keys such as `constructor` or `__proto__` are plain keys here, not inherited members.
  const out = Object.create(null) as Record<string, string[]>;
  if (query === '') return out;
  for (const [key, value] of new URLSearchParams(query)) {
    const values = out[key];
    if (values) values.push(value);
    else out[key] = [value];
  }
  return out;
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Record<K, string>) : {};
}
