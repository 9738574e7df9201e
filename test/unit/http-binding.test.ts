import type { CloudEventV01 } from '../../lib/events/cloudevent';
import { binaryV1Event, dataOfBinaryBody, decodeHeaderValue, encodeHeaderValue, toBinaryMessage, toV1 } from '../../lib/events/http-binding';

const v01 = (overrides: Partial<CloudEventV01>): CloudEventV01 => ({ eventType: 't', cloudEventsVersion: '0.1', source: '/s', eventID: '1', ...overrides });
const v1 = { specversion: '1.0', type: 't', source: '/s', id: '1' };

describe('ce- header values', () => {
  it.each([
    ['"', '"'],
    ['"open', '"open'],
    ['close"', 'close"'],
    ['""', ''],
    ['"a \\"b\\" \\\\ c"', 'a "b" \\ c'],
    ['plain', 'plain'],
    ['%41%42', 'AB'],
    ['%zz%4', '%zz%4'],
    ['100%', '100%'],
    ['é%41', 'éA'],
    ['%e2%82%ac', '€'],
  ])('decodes %j as %j', (header, value) => {
    expect(decodeHeaderValue(header)).toBe(value);
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(() => decodeHeaderValue('%FF')).toThrow('The encoded data was not valid for encoding utf-8');
  });

  it.each([
    [' ', '%20'],
    ['!~', '!~'],
    ['\x7f', '%7F'],
    ['\n', '%0A'],
    ['"%', '%22%25'],
    ['é', '%C3%A9'],
  ])('encodes %j as %j: printable ASCII but space, quote and percent as it is', (value, header) => {
    expect(encodeHeaderValue(value)).toBe(header);
  });
});

describe('data of a binary-mode body', () => {
  it.each<[string | undefined, string, object]>([
    ['application/json', '', {}],
    ['application/json', '{"a":1}', { data: { a: 1 } }],
    ['application/cloudevents+json; charset=utf-8', '[1]', { data: [1] }],
    ['application/json', '{bad', { data_base64: Buffer.from('{bad').toString('base64') }],
    ['application/x-www-form-urlencoded', 'a=1', { data: 'a=1' }],
    ['multipart/form-data; boundary=x', '--x--', { data: '--x--' }],
    ['text/plain', 'hi', { data_base64: Buffer.from('hi').toString('base64') }],
    [undefined, 'hi', { data_base64: Buffer.from('hi').toString('base64') }],
  ])('with Content-Type %j and body %j', (contentType, body, expected) => {
    expect(dataOfBinaryBody(contentType, Buffer.from(body))).toStrictEqual(expected);
  });
});

describe('binaryV1Event', () => {
  it('takes ce- headers only, joins repeated ones, and skips absent ones', () => {
    const event = binaryV1Event({ 'ce-id': '1', 'ce-tags': ['a', 'b'], 'ce-none': undefined, 'x-other': 'no', host: 'h' }, Buffer.alloc(0));
    expect(event).toStrictEqual({ id: '1', tags: 'a, b' });
  });

  it('takes Content-Type as datacontenttype unless it is empty', () => {
    expect(binaryV1Event({ 'ce-id': '1', 'content-type': 'text/plain' }, Buffer.from('x'))).toStrictEqual({ id: '1', datacontenttype: 'text/plain', data_base64: 'eA==' });
    expect(binaryV1Event({ 'ce-id': '1', 'content-type': '' }, Buffer.from('x'))).toStrictEqual({ id: '1', data_base64: 'eA==' });
  });

  it('names the header that does not decode', () => {
    expect(() => binaryV1Event({ 'ce-subject': '%C0%A0' }, Buffer.alloc(0))).toThrow(new Error('header ce-subject is not valid percent-encoded UTF-8'));
  });
});

describe('toBinaryMessage for 1.0 events', () => {
  it('writes every attribute but the data ones as a ce- header, skipping null and undefined', () => {
    const message = toBinaryMessage({ ...v1, subject: undefined, nothing: null, count: 2, flag: false, obj: { a: 1 } });
    expect(message).toEqual({
      headers: { 'ce-specversion': '1.0', 'ce-type': 't', 'ce-source': '/s', 'ce-id': '1', 'ce-count': '2', 'ce-flag': 'false', 'ce-obj': '{%22a%22:1}' },
      body: Buffer.alloc(0),
    });
  });

  it.each<[string, object, string | undefined, string]>([
    ['JSON data without a type', { data: { a: 1 } }, 'application/json', '{"a":1}'],
    ['a string as JSON data', { data: 'x', datacontenttype: 'application/json' }, 'application/json', '"x"'],
    ['text data', { data: 'x', datacontenttype: 'text/plain' }, 'text/plain', 'x'],
    ['bytes without a type', { data_base64: 'AAE=' }, undefined, '\x00\x01'],
    ['bytes with a type', { data_base64: 'AAE=', datacontenttype: 'image/png' }, 'image/png', '\x00\x01'],
    ['no data', {}, undefined, ''],
    ['no data but a type', { datacontenttype: 'text/plain' }, 'text/plain', ''],
    ['a string without a type, as JSON', { data: 'x' }, 'application/json', '"x"'],
    ['an object with a text type, as JSON', { data: { a: 1 }, datacontenttype: 'text/plain' }, 'text/plain', '{"a":1}'],
  ])('writes %s', (_name, fields, contentType, body) => {
    const message = toBinaryMessage({ ...v1, ...fields });
    expect(message.headers['content-type']).toBe(contentType);
    expect('content-type' in message.headers).toBe(contentType !== undefined);
    expect(message.body.toString('latin1')).toBe(body);
    expect(Object.keys(message.headers).filter((h) => h.startsWith('ce-data'))).toEqual([]);
  });
});

describe('toBinaryMessage for 0.1 events', () => {
  it('writes each attribute present and each extension as ce-x-', () => {
    const message = toBinaryMessage(
      v01({ eventTypeVersion: '2', eventTime: '2018-04-05T17:31:00Z', schemaURL: 'https://s', contentType: 'text/plain', extensions: { tenant: 'a b', n: { x: 1 } }, data: 'aGk=' }),
    );
    expect(message.headers).toEqual({
      'ce-eventtype': 't',
      'ce-cloudeventsversion': '0.1',
      'ce-source': '/s',
      'ce-eventid': '1',
      'ce-eventtypeversion': '2',
      'ce-eventtime': '2018-04-05T17:31:00Z',
      'ce-schemaurl': 'https://s',
      'ce-x-tenant': 'a%20b',
      'ce-x-n': '{%22x%22:1}',
      'content-type': 'text/plain',
    });
    expect(message.body.toString()).toBe('hi');
  });

  it.each<[string, Partial<CloudEventV01>, string, string]>([
    ['no data', {}, 'application/json', ''],
    ['object data', { data: { a: 1 } }, 'application/json', '{"a":1}'],
    ['a string with a JSON type', { data: 'x', contentType: 'application/json' }, 'application/json', '"x"'],
    ['form text', { data: 'a=1', contentType: 'application/x-www-form-urlencoded' }, 'application/x-www-form-urlencoded', 'a=1'],
    ['bytes kept as base64 without a type', { data: 'aGk=' }, 'application/octet-stream', 'hi'],
    ['a number', { data: 5 }, 'application/json', '5'],
  ])('writes %s', (_name, fields, contentType, body) => {
    const message = toBinaryMessage(v01(fields));
    expect(Object.keys(message.headers)).toEqual(['ce-eventtype', 'ce-cloudeventsversion', 'ce-source', 'ce-eventid', 'content-type']);
    expect(message.headers['content-type']).toBe(contentType);
    expect(message.body.toString()).toBe(body);
  });
});

describe('toV1', () => {
  it('maps the 0.1 attributes to their 1.0 names', () => {
    expect(toV1(v01({ eventTime: 'T', schemaURL: 'https://s', contentType: 'text/plain', eventTypeVersion: '2' }))).toStrictEqual({
      specversion: '1.0',
      id: '1',
      source: '/s',
      type: 't',
      time: 'T',
      dataschema: 'https://s',
      datacontenttype: 'text/plain',
      eventtypeversion: '2',
    });
  });

  it('gives extensions legal names, skips those that clash or vanish, and turns objects into JSON', () => {
    const event = toV1(v01({ extensions: { 'My-Ext': 'a', 'my_ext': 'b', Source: 'x', '--': 'y', nested: { a: [1] }, nothing: null, eventgateway: null } }));
    expect(event).toStrictEqual({ specversion: '1.0', id: '1', source: '/s', type: 't', myext: 'a', nested: '{"a":[1]}', nothing: null, eventgateway: null });
    expect(toV1(v01({ extensions: { eventgateway: 'plain' } }))).toStrictEqual({ specversion: '1.0', id: '1', source: '/s', type: 't', eventgateway: 'plain' });
  });

  it('spreads the gateway extension object into eventgateway<key> extensions', () => {
    const event = toV1(v01({ extensions: { eventgateway: { transformed: 'true', 'transformation-version': '0.1', authorization: { principalId: 'p' } } } }));
    expect(event).toMatchObject({ eventgatewaytransformed: 'true', eventgatewaytransformationversion: '0.1', eventgatewayauthorization: '{"principalId":"p"}' });
  });

  it.each<[string, Partial<CloudEventV01>, object]>([
    ['JSON data', { contentType: 'application/json', data: { a: 1 } }, { data: { a: 1 } }],
    ['a JSON string', { contentType: 'application/json', data: 'x' }, { data: 'x' }],
    ['form text', { contentType: 'application/x-www-form-urlencoded', data: 'a=1' }, { data: 'a=1' }],
    ['bytes kept as base64', { contentType: 'image/png', data: 'aGk=' }, { data_base64: 'aGk=' }],
    ['bytes without a type', { data: 'aGk=' }, { data_base64: 'aGk=' }],
    ['an object without a type', { data: { a: 1 } }, { data: { a: 1 } }],
  ])('moves %s to the right field', (_name, fields, expected) => {
    const event = toV1(v01(fields));
    const dataFields = Object.fromEntries(Object.entries(event).filter(([name]) => name.startsWith('data') && name !== 'datacontenttype'));
    expect(dataFields).toStrictEqual(expected);
  });

  it('has no data field when the event has no data', () => {
    expect(Object.keys(toV1(v01({})))).toEqual(['specversion', 'id', 'source', 'type']);
  });
});
