import { ValidationError } from '../../lib/errors';
import { attributeOf, eventIdOf, eventTypeOf, isV1, specVersionOf, withAuthorization } from '../../lib/events/accessors';
import { gatewayEvent } from '../../lib/events/parse';
import { decodeHeaderValue, encodeHeaderValue, toBinaryMessage, toV1 } from '../../lib/events/http-binding';
import { eventFromRequest, eventsFromRequest } from '../../lib/events/parse';
import type { IncomingRequest } from '../../lib/events/request';
import { validateCloudEventV1 } from '../../lib/events/cloudevent-v1';

function request(overrides: Partial<IncomingRequest>): IncomingRequest {
  return { method: 'POST', path: '/', query: '', headers: {}, body: Buffer.alloc(0), host: 'localhost:4000', ...overrides };
}

const structured = (event: unknown) =>
  request({ headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' }, body: Buffer.from(JSON.stringify(event)) });
const batch = (body: string) => request({ headers: { 'content-type': 'application/cloudevents-batch+json' }, body: Buffer.from(body) });
const binaryHeaders = { 'ce-specversion': '1.0', 'ce-type': 'com.example.someevent', 'ce-source': '/mycontext/subcontext', 'ce-id': '1234-1234-1234' };
const binary = (headers: Record<string, string>, body = '') => request({ headers, body: Buffer.from(body) });

// The spec's JSON format example (json-format.md §3.1), trimmed to what matters.
const specExample = {
  specversion: '1.0',
  type: 'com.example.someevent',
  source: '/mycontext',
  id: 'A234-1234-1234',
  time: '2018-04-05T17:31:00Z',
  comexampleextension1: 'value',
  comexampleothervalue: 5,
  datacontenttype: 'application/json',
  data: { appinfoA: 'abc', appinfoB: 123 },
};

describe('CloudEvents 1.0, structured mode', () => {
  it('takes a 1.0 event as it is, telling it from 0.1 by specversion', () => {
    const event = eventFromRequest(structured(specExample));
    expect(event).toEqual(specExample);
    expect(isV1(event)).toBe(true);
    expect([eventTypeOf(event), eventIdOf(event), specVersionOf(event)]).toEqual(['com.example.someevent', 'A234-1234-1234', '1.0']);
  });

  it('takes data_base64 for binary data', () => {
    const event = eventFromRequest(structured({ ...specExample, data: undefined, datacontenttype: 'image/png', data_base64: 'iVBORw0KGgo=' }));
    expect(event).toMatchObject({ data_base64: 'iVBORw0KGgo=' });
  });

  it.each([
    ['a missing id', { ...specExample, id: undefined }, /'CloudEvent.id'.*'required' tag/],
    ['a missing source', { ...specExample, source: '' }, /'CloudEvent.source'.*'required' tag/],
    ['a missing type', { ...specExample, type: undefined }, /'CloudEvent.type'.*'required' tag/],
    ['a missing specversion', { ...specExample, specversion: undefined }, /'CloudEvent.specversion'.*'required' tag/],
    ['another specversion', { ...specExample, specversion: '0.3' }, /'specversion' failed on the 'eq=1.0' tag/],
    ['data and data_base64 together', { ...specExample, data_base64: 'AA==' }, /'data_base64' failed on the 'excluded_with=data' tag/],
    ['data_base64 that is not base64', { ...specExample, data: undefined, data_base64: 'not base64!' }, /'data_base64' failed on the 'base64' tag/],
    ['an extension name with upper case', { ...specExample, myExtension: 'x' }, /'myExtension' failed on the 'name' tag/],
    ['an object as extension value', { ...specExample, tenant: { id: 1 } }, /'tenant' failed on the 'scalar' tag/],
    ['a time that is not RFC 3339', { ...specExample, time: 'yesterday' }, /'time' failed on the 'rfc3339' tag/],
    ['a time without its time zone', { ...specExample, time: '2018-04-05T17:31:00' }, /'time' failed on the 'rfc3339' tag/],
    ['a time zone without minutes', { ...specExample, time: '2018-04-05T17:31:00+02' }, /'time' failed on the 'rfc3339' tag/],
    ['a source that is not a URI-reference', { ...specExample, source: 'my source' }, /'source' failed on the 'uri' tag/],
    ['a dataschema that is not a URI-reference', { ...specExample, dataschema: 'a schema' }, /'dataschema' failed on the 'uri' tag/],
  ])('rejects %s with a clear 400', (_name, body, detail) => {
    const act = () => eventFromRequest(structured(body));
    expect(act).toThrow(ValidationError);
    expect(act).toThrow(/^CloudEvent doesn't validate: /);
    expect(act).toThrow(detail);
  });

  it('accepts the RFC 3339 forms and URI-references the spec allows', () => {
    for (const time of ['2018-04-05T17:31:00Z', '2018-04-05t17:31:00.123z', '2018-04-05T17:31:00.5+02:00', '2018-04-05T17:31:00-05:30']) {
      expect([time, eventFromRequest(structured({ ...specExample, time }))]).toEqual([time, { ...specExample, time }]);
    }
    for (const source of ['/mycontext', 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66', 'https://example.com/a?b=c', 'mycontext']) {
      const event = { ...specExample, source, dataschema: source };
      expect(eventFromRequest(structured(event))).toEqual(event);
    }
  });

  it('names every missing attribute at once', () => {
    expect(() => eventFromRequest(structured({ specversion: '1.0' }))).toThrow(/'id'[\s\S]*'source'[\s\S]*'type'/);
  });
});

describe('validateCloudEventV1', () => {
  const minimal = { specversion: '1.0', id: '1', source: '/s', type: 't' };
  const tag = (field: string, name: string) => `Key: 'CloudEvent.${field}' Error:Field validation for '${field}' failed on the '${name}' tag`;

  it('is undefined for a valid event, with null extensions and scalar ones', () => {
    expect(validateCloudEventV1(minimal)).toBeUndefined();
    expect(validateCloudEventV1({ ...minimal, nothing: null, count: 1, flag: true, text: 'x' })).toBeUndefined();
  });

  it.each([null, [], [minimal], 'event', 5, undefined])('refuses %j, which is not a JSON object', (value) => {
    expect(validateCloudEventV1(value)).toBe('the event must be a JSON object');
  });

  it('names each failure on its own line', () => {
    expect(validateCloudEventV1({ specversion: '1.0', source: '/s', type: 't', subject: 5 })).toBe(`${tag('id', 'required')}\n${tag('subject', 'string')}`);
  });

  it.each(['datacontenttype', 'dataschema', 'subject', 'time'])('wants %s to be a string', (key) => {
    expect(validateCloudEventV1({ ...minimal, [key]: 5 })).toBe(tag(key, 'string'));
  });

  it.each(['x2018-04-05T17:31:00Z', '2018-04-05T17:31:00Zx', '2018-04-05 17:31:00Z'])('refuses the time %j', (time) => {
    expect(validateCloudEventV1({ ...minimal, time })).toBe(tag('time', 'rfc3339'));
  });

  it('wants data_base64 to be a base64 string', () => {
    expect(validateCloudEventV1({ ...minimal, data_base64: 5 })).toBe(tag('data_base64', 'base64'));
    expect(validateCloudEventV1({ ...minimal, data_base64: 'AAE=' })).toBeUndefined();
  });
});

describe('CloudEvents 1.0, binary mode', () => {
  it('builds the event from ce- headers: Content-Type is datacontenttype, JSON body is data', () => {
    const event = eventFromRequest(
      binary({ ...binaryHeaders, 'ce-time': '2018-04-05T03:56:24Z', 'ce-tenant': 'acme', 'content-type': 'application/json; charset=utf-8' }, '{"a":1}'),
    );
    expect(event).toEqual({
      specversion: '1.0',
      type: 'com.example.someevent',
      source: '/mycontext/subcontext',
      id: '1234-1234-1234',
      time: '2018-04-05T03:56:24Z',
      tenant: 'acme',
      datacontenttype: 'application/json; charset=utf-8',
      data: { a: 1 },
    });
  });

  it('keeps a non-JSON body as data_base64 and an empty body as no data', () => {
    expect(eventFromRequest(binary({ ...binaryHeaders, 'content-type': 'image/png' }, 'PNG'))).toMatchObject({
      datacontenttype: 'image/png',
      data_base64: Buffer.from('PNG').toString('base64'),
    });
    const empty = eventFromRequest(binary(binaryHeaders));
    expect('data' in empty || 'data_base64' in empty).toBe(false);
  });

  it('percent-decodes header values exactly once (the spec example, lower-case hex, an encoded %)', () => {
    const event = eventFromRequest(binary({ ...binaryHeaders, 'ce-subject': 'Euro%20%E2%82%AC%20%F0%9F%98%80', 'ce-note': '100%2541', 'ce-low': '%c3%a9' }));
    expect(event).toMatchObject({ subject: 'Euro € 😀', note: '100%41', low: 'é' });
  });

  it('undoes quoted-string escaping from older senders', () => {
    expect(eventFromRequest(binary({ ...binaryHeaders, 'ce-subject': '"a \\"quoted\\" value"' }))).toMatchObject({ subject: 'a "quoted" value' });
  });

  it('rejects an overlong UTF-8 encoding', () => {
    expect(() => eventFromRequest(binary({ ...binaryHeaders, 'ce-subject': '%C0%A0' }))).toThrow(/^CloudEvent doesn't validate: header ce-subject/);
  });

  it.each([
    ['ce-id', /'CloudEvent.id'.*'required'/],
    ['ce-type', /'CloudEvent.type'.*'required'/],
    ['ce-source', /'CloudEvent.source'.*'required'/],
  ])('rejects a request without %s', (header, detail) => {
    const headers: Record<string, string> = { ...binaryHeaders };
    delete headers[header];
    expect(() => eventFromRequest(binary(headers))).toThrow(detail);
  });

  it('rejects a specversion it does not speak and extension names 1.0 forbids', () => {
    expect(() => eventFromRequest(binary({ ...binaryHeaders, 'ce-specversion': '0.3' }))).toThrow(/eq=1.0/);
    expect(() => eventFromRequest(binary({ ...binaryHeaders, 'ce-my-extension': 'x' }))).toThrow(/'my-extension' failed on the 'name' tag/);
  });

  it('still reads 0.1 binary headers as 0.1 when ce-specversion is absent', () => {
    const event = eventFromRequest(binary({ 'ce-eventtype': 'a', 'ce-cloudeventsversion': '0.1', 'ce-source': '/s', 'ce-eventid': '1' }));
    expect(isV1(event)).toBe(false);
    expect(eventTypeOf(event)).toBe('a');
  });
});

describe('header value percent-encoding', () => {
  it('encodes the spec example as the spec writes it', () => {
    expect(encodeHeaderValue('Euro € 😀')).toBe('Euro%20%E2%82%AC%20%F0%9F%98%80');
  });

  it.each(['plain', 'with space', 'a "quote"', '100%', 'tab\there', 'ünïcödé ✓ 😀', '%41 stays'])('round-trips %j', (value) => {
    const encoded = encodeHeaderValue(value);
    expect(encoded).toMatch(/^[\x21-\x7e]*$/);
    expect(decodeHeaderValue(encoded)).toBe(value);
  });
});

describe('CloudEvents 1.0, batched mode', () => {
  it('judges each event of a batch on its own, mixing types', () => {
    const ok = { specversion: '1.0', type: 'a', source: '/s', id: '1' };
    const result = eventsFromRequest(batch(JSON.stringify([ok, { ...ok, id: '2', type: 'b' }, { specversion: '1.0', type: 'c', source: '/s' }])));
    expect(result.mode).toBe('batch');
    if (result.mode !== 'batch') return;
    expect(result.entries[0]).toEqual({ event: ok });
    expect(result.entries[1]).toEqual({ event: { ...ok, id: '2', type: 'b' } });
    expect(result.entries[2]).toMatchObject({ type: 'c', error: expect.stringMatching(/^CloudEvent doesn't validate: .*'id'/) });
  });

  it.each([
    ['an empty batch', '[]', /the batch is empty/],
    ['a batch that is not an array', '{"specversion":"1.0"}', /must be a JSON array/],
    ['malformed JSON', '[{', /malformed JSON body/],
  ])('rejects %s', (_name, body, message) => {
    const act = () => eventsFromRequest(batch(body));
    expect(act).toThrow(ValidationError);
    expect(act).toThrow(message);
  });
});

describe('delivery forms', () => {
  it('writes a 1.0 event in binary mode with encoded headers and raw data', () => {
    const message = toBinaryMessage({ specversion: '1.0', type: 't', source: '/s', id: '1', subject: 'a b', count: 3, datacontenttype: 'text/plain', data_base64: Buffer.from('hi').toString('base64') });
    expect(message.headers).toEqual({ 'ce-specversion': '1.0', 'ce-type': 't', 'ce-source': '/s', 'ce-id': '1', 'ce-subject': 'a%20b', 'ce-count': '3', 'content-type': 'text/plain' });
    expect(message.body.toString()).toBe('hi');
    expect(toBinaryMessage({ specversion: '1.0', type: 't', source: '/s', id: '1', data: { a: 1 } })).toMatchObject({
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"a":1}'),
    });
  });

  it('turns a gateway http.request event into 1.0, its own extension spread into legal names', () => {
    const event = withAuthorization(gatewayEvent('http.request', { path: '/' }, 'application/json'), { principalId: 'p' });
    const v1 = toV1(event as Parameters<typeof toV1>[0]);
    expect(v1).toMatchObject({
      specversion: '1.0',
      type: 'http.request',
      datacontenttype: 'application/json',
      eventgatewaytransformed: 'true',
      eventgatewaytransformationversion: '0.1',
      eventgatewayauthorization: '{"principalId":"p"}',
      data: { path: '/' },
    });
    expect(v1.id).toBe(eventIdOf(event));
  });

  it('attaches authorization to a 1.0 event as a JSON string extension', () => {
    const event = withAuthorization({ specversion: '1.0', type: 't', source: '/s', id: '1' }, { principalId: 'alice' });
    expect(attributeOf(event, 'eventgatewayauthorization')).toBe('{"principalId":"alice"}');
  });
});
