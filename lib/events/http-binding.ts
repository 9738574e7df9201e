import type { CloudEventV01 } from './cloudevent';
import { SPEC_VERSION_V1, V1_ATTRIBUTES, type CloudEventV1 } from './cloudevent-v1';
import { isV1, type CloudEvent } from './accessors';
import { isFormMediaType, isJsonMediaType, mediaType } from './media';

/** An event as an HTTP message in binary content mode: attributes in headers, data as the body. */
export interface BinaryMessage {
  headers: Record<string, string>;
  body: Buffer;
}

const HEX = /^[0-9a-fA-F]{2}$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Undoes RFC 7230 quoted-string escaping, which older senders may use. */
function unquote(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value;
  return value.slice(1, -1).replace(/\\(.)/g, '$1');
}

/**
 * A `ce-` header value as the attribute it carries (HTTP binding 1.0, §3.1.3.2): quoted strings
 * unescaped, then percent-decoded exactly once. Byte sequences that are not UTF-8 (overlong forms
 * included) are refused with an Error.
 */
export function decodeHeaderValue(value: string): string {
  const text = unquote(value);
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === '%' && HEX.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
      continue;
    }
    bytes.push(...Buffer.from(text[i] as string));
  }
  return strictUtf8.decode(Uint8Array.from(bytes));
}

/** An attribute value for a `ce-` header: space, `"`, `%` and anything outside printable ASCII percent-encoded. */
export function encodeHeaderValue(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0) as number;
    if (code > 0x20 && code < 0x7f && char !== '"' && char !== '%') {
      out += char;
      continue;
    }
    for (const byte of Buffer.from(char)) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/**
 * A 1.0 binary-mode body as event data: JSON becomes `data`, forms become `data` text, anything else
 * is bytes in `data_base64` (the contract's normalisation, in 1.0's own field for bytes). An empty
 * body means no data.
 */
export function dataOfBinaryBody(contentType: string | undefined, body: Buffer): Pick<CloudEventV1, 'data' | 'data_base64'> {
  if (body.length === 0) return {};
  const type = mediaType(contentType);
  if (isJsonMediaType(type)) {
    try {
      return { data: JSON.parse(body.toString('utf8')) };
    } catch {
      return { data_base64: body.toString('base64') };
    }
  }
  if (isFormMediaType(type)) return { data: body.toString('utf8') };
  return { data_base64: body.toString('base64') };
}

/**
 * The 1.0 event of a binary-mode request: each `ce-<name>` header is attribute `<name>`,
 * Content-Type is `datacontenttype`, the body is the data. Not validated here.
 */
export function binaryV1Event(headers: Record<string, string | string[] | undefined>, body: Buffer): CloudEventV1 {
  const event: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(headers)) {
    if (!name.startsWith('ce-') || raw === undefined) continue;
    const value = Array.isArray(raw) ? raw.join(', ') : raw;
    try {
      event[name.slice(3)] = decodeHeaderValue(value);
    } catch {
      throw new Error(`header ${name} is not valid percent-encoded UTF-8`);
    }
  }
  const contentType = headers['content-type'];
  if (typeof contentType === 'string' && contentType !== '') event.datacontenttype = contentType;
  return { ...(event as CloudEventV1), ...dataOfBinaryBody(event.datacontenttype as string | undefined, body) };
}

/** Bytes of a 0.1 event's data, undoing the contract's normalisation (bytes were kept as base64). */
function v01Body(event: CloudEventV01): Buffer {
  const type = mediaType(event.contentType);
  if (event.data === undefined) return Buffer.alloc(0);
  if (isJsonMediaType(type) || typeof event.data !== 'string') return Buffer.from(JSON.stringify(event.data));
  return isFormMediaType(type) ? Buffer.from(event.data) : Buffer.from(event.data, 'base64');
}

function v1Body(event: CloudEventV1): Buffer {
  if (typeof event.data_base64 === 'string') return Buffer.from(event.data_base64, 'base64');
  if (event.data === undefined) return Buffer.alloc(0);
  const type = mediaType(event.datacontenttype ?? 'application/json');
  if (typeof event.data === 'string' && !isJsonMediaType(type)) return Buffer.from(event.data);
  return Buffer.from(JSON.stringify(event.data));
}

function headerText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * An event in binary content mode. 1.0: every attribute and extension as a percent-encoded `ce-`
 * header. 0.1: its own binding (`ce-eventtype`, …, extensions as `ce-x-<name>`). Content-Type carries
 * the data's media type (JSON when the event names none but has JSON data).
 */
export function toBinaryMessage(event: CloudEvent): BinaryMessage {
  const headers: Record<string, string> = {};
  if (isV1(event)) {
    for (const [name, value] of Object.entries(event)) {
      if (name === 'data' || name === 'data_base64' || name === 'datacontenttype' || value === undefined || value === null) continue;
      headers[`ce-${name}`] = encodeHeaderValue(headerText(value));
    }
    const contentType = event.datacontenttype ?? (event.data !== undefined && event.data_base64 === undefined ? 'application/json' : undefined);
    if (contentType) headers['content-type'] = contentType;
    return { headers, body: v1Body(event) };
  }
  const v01: Array<[string, string | undefined]> = [
    ['ce-eventtype', event.eventType],
    ['ce-cloudeventsversion', event.cloudEventsVersion],
    ['ce-source', event.source],
    ['ce-eventid', event.eventID],
    ['ce-eventtypeversion', event.eventTypeVersion],
    ['ce-eventtime', event.eventTime],
    ['ce-schemaurl', event.schemaURL],
  ];
  for (const [name, value] of v01) if (value !== undefined) headers[name] = encodeHeaderValue(value);
  for (const [name, value] of Object.entries(event.extensions ?? {})) headers[`ce-x-${name}`] = encodeHeaderValue(headerText(value));
  headers['content-type'] = event.contentType ?? (typeof event.data === 'string' ? 'application/octet-stream' : 'application/json');
  return { headers, body: v01Body(event) };
}

const V01_TO_V1: Array<[keyof CloudEventV01, string]> = [
  ['eventTime', 'time'],
  ['schemaURL', 'dataschema'],
  ['contentType', 'datacontenttype'],
  ['eventTypeVersion', 'eventtypeversion'],
];

/** An extension name made legal in 1.0: lower-cased, anything but letters and digits dropped. */
function extensionName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function scalar(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
}

/**
 * A 0.1 event in 1.0 form, for subscriptions that ask for 1.0. The gateway's own `eventgateway`
 * extension object is spread into `eventgateway<key>` extensions (so its authorization lands in
 * `eventgatewayauthorization`, as on events that arrived in 1.0); other extensions get legal names
 * and object values become JSON strings. Data the contract kept as base64 moves to `data_base64`.
 */
export function toV1(event: CloudEventV01): CloudEventV1 {
  const out: CloudEventV1 = { specversion: SPEC_VERSION_V1, id: event.eventID, source: event.source, type: event.eventType };
  for (const [from, to] of V01_TO_V1) if (typeof event[from] === 'string') out[to] = event[from];
  for (const [name, value] of Object.entries(event.extensions ?? {})) {
    if (name === 'eventgateway' && value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) out[extensionName(`eventgateway${key}`)] = scalar(inner);
      continue;
    }
    const legal = extensionName(name);
    if (legal !== '' && !(V1_ATTRIBUTES as readonly string[]).includes(legal) && !(legal in out)) out[legal] = scalar(value);
  }
  if (event.data === undefined) return out;
  const type = mediaType(event.contentType);
  const bytes = typeof event.data === 'string' && !isJsonMediaType(type) && !isFormMediaType(type);
  return bytes ? { ...out, data_base64: event.data as string } : { ...out, data: event.data };
}
