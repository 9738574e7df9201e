import { ValidationError } from '../../lib/errors';
import { GATEWAY_SOURCE } from '../../lib/events/cloudevent';
import { eventFromRequest, eventsFromRequest, normaliseData, parseQuery } from '../../lib/events/parse';
import type { IncomingRequest } from '../../lib/events/request';

function request(overrides: Partial<IncomingRequest>): IncomingRequest {
  return { method: 'POST', path: '/', query: '', headers: {}, body: Buffer.alloc(0), host: 'localhost:4000', ...overrides };
}

const validEvent = { eventType: 'user.created', cloudEventsVersion: '0.1', source: '/services/users', eventID: '1', data: { id: 7 } };

describe('turning a request into an event', () => {
  it('takes a structured CloudEvent as it is', () => {
    const event = eventFromRequest(
      request({ headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' }, body: Buffer.from(JSON.stringify(validEvent)) }),
    );
    expect(event).toEqual(validEvent);
  });

  it('rejects a structured CloudEvent without its required attributes, naming them', () => {
    const body = Buffer.from(JSON.stringify({ eventType: 'x', source: 'not a uri' }));
    const act = () => eventFromRequest(request({ headers: { 'content-type': 'application/cloudevents+json' }, body }));
    expect(act).toThrow(ValidationError);
    expect(act).toThrow(/^CloudEvent doesn't validate: .*'CloudEvent.CloudEventsVersion'.*required/s);
    expect(act).toThrow(/'Source' failed on the 'uri' tag/);
  });

  it('rejects malformed JSON in a structured CloudEvent with a clear message', () => {
    const act = () => eventFromRequest(request({ headers: { 'content-type': 'application/cloudevents+json' }, body: Buffer.from('{nope') }));
    expect(act).toThrow(/^CloudEvent doesn't validate: malformed JSON body/);
  });

  it('builds a binary CloudEvent from CE- headers, with extensions and the body as data', () => {
    const event = eventFromRequest(
      request({
        headers: {
          'content-type': 'application/json',
          'ce-eventtype': 'order.placed',
          'ce-cloudeventsversion': '0.1',
          'ce-source': 'https://shop.example/orders',
          'ce-eventid': 'abc',
          'ce-eventtime': '2018-04-05T17:31:00Z',
          'ce-x-tenant': 'acme',
        },
        body: Buffer.from('{"total":3}'),
      }),
    );
    expect(event).toEqual({
      eventType: 'order.placed',
      cloudEventsVersion: '0.1',
      source: 'https://shop.example/orders',
      eventID: 'abc',
      eventTime: '2018-04-05T17:31:00Z',
      contentType: 'application/json',
      extensions: { tenant: 'acme' },
      data: { total: 3 },
    });
  });

  it('wraps a body sent with the legacy Event header as data of a new event', () => {
    const event = eventFromRequest(request({ headers: { event: 'pageVisited', 'content-type': 'text/plain' }, body: Buffer.from('hi') }));
    expect(event.eventType).toBe('pageVisited');
    expect(event.source).toBe(GATEWAY_SOURCE);
    expect(event.cloudEventsVersion).toBe('0.1');
    expect(event.data).toBe(Buffer.from('hi').toString('base64'));
    expect(event.extensions).toEqual({ eventgateway: { transformed: 'true', 'transformation-version': '0.1' } });
  });

  it('uses a valid CloudEvent body sent with the legacy Event header as it is', () => {
    const event = eventFromRequest(request({ headers: { event: 'ignored', 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(validEvent)) }));
    expect(event).toEqual(validEvent);
  });

  it('describes any other request as an http.request event', () => {
    const event = eventFromRequest(
      request({
        method: 'GET',
        path: '/users/1',
        query: 'a=1&a=2&b=x',
        headers: { 'x-custom': ['one', 'two'], 'content-type': 'application/json' },
        body: Buffer.from('{"k":true}'),
      }),
    );
    expect(event.eventType).toBe('http.request');
    expect(event.data).toEqual({
      path: '/users/1',
      method: 'GET',
      headers: { 'X-Custom': 'one, two', 'Content-Type': 'application/json' },
      host: 'localhost:4000',
      query: { a: ['1', '2'], b: ['x'] },
      params: {},
      body: { k: true },
    });
    expect(event.eventID).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('hostile request details', () => {
  it('keeps query keys named like object members as plain keys', () => {
    const event = eventFromRequest(request({ method: 'GET', query: 'constructor=1&__proto__=2&toString=3&constructor=4' }));
    const data = event.data as { query: Record<string, string[]> };
    expect(JSON.stringify(data.query)).toBe('{"constructor":["1","4"],"__proto__":["2"],"toString":["3"]}');
  });

  it('gives the decoded path in http.request data, and the raw one when it does not decode', () => {
    expect((eventFromRequest(request({ path: '/caf%C3%A9/a%20b' })).data as { path: string }).path).toBe('/café/a b');
    expect((eventFromRequest(request({ path: '/bad%E0' })).data as { path: string }).path).toBe('/bad%E0');
  });

  it('gives an empty body as "" whatever its type, as the original did', () => {
    expect((eventFromRequest(request({ headers: { 'content-type': 'application/json' } })).data as { body: unknown }).body).toBe('');
  });
});

describe('data normalisation', () => {
  it.each([
    ['application/json', '{"a":1}', { a: 1 }],
    ['application/vnd.api+json', '[1,2]', [1, 2]],
    ['application/x-www-form-urlencoded', 'a=1&b=2', 'a=1&b=2'],
    ['multipart/form-data; boundary=x', '--x--', '--x--'],
    ['image/png', 'PNG', Buffer.from('PNG').toString('base64')],
    [undefined, 'raw', Buffer.from('raw').toString('base64')],
  ])('turns a %s body into the right data', (contentType, body, expected) => {
    expect(normaliseData(contentType, Buffer.from(body))).toEqual(expected);
  });

  it('keeps a JSON body that does not parse as bytes instead of losing it', () => {
    expect(normaliseData('application/json', Buffer.from('{oops'))).toBe(Buffer.from('{oops').toString('base64'));
  });
});

describe('telling the kinds of request apart', () => {
  const structured = (body: string) => request({ headers: { 'content-type': 'application/cloudevents+json' }, body: Buffer.from(body) });
  const invalid = (req: IncomingRequest): unknown => {
    try {
      eventFromRequest(req);
    } catch (err) {
      return err;
    }
    return undefined;
  };

  it('reads a request that is not a batch as one event', () => {
    const req = structured(JSON.stringify(validEvent));
    expect(eventsFromRequest(req)).toEqual({ mode: 'single', event: validEvent });
  });

  it('refuses to read a batch as one event', () => {
    const err = invalid(request({ headers: { 'content-type': 'application/cloudevents-batch+json' }, body: Buffer.from('[]') }));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ message: "CloudEvent doesn't validate: a batch carries several events; read it with eventsFromRequest" });
  });

  it.each(['null', '"text"', '5'])('refuses the structured body %s, which is not an object, with a 400', (body) => {
    const err = invalid(structured(body));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ message: "CloudEvent doesn't validate: the event must be a JSON object" });
  });

  it.each([
    ['type and id without specversion', { type: 't', id: '1', source: '/s' }, /'CloudEvent.specversion'.*'required'/],
    ['only an id', { id: '1' }, /'CloudEvent.specversion'.*'required'/],
    ['only a type', { type: 't' }, /'CloudEvent.specversion'.*'required'/],
  ])('judges a body with %s by 1.0 rules', (_name, body, message) => {
    expect(invalid(structured(JSON.stringify(body)))).toMatchObject({ message: expect.stringMatching(message) });
  });

  it.each([
    ['eventType beside type', { eventType: 'e', type: 't', id: '1' }],
    ['cloudEventsVersion beside id', { cloudEventsVersion: '0.1', id: '1' }],
    ['neither type nor id', { source: '/s' }],
  ])('judges a body with %s by 0.1 rules', (_name, body) => {
    expect(invalid(structured(JSON.stringify(body)))).toMatchObject({ message: expect.stringMatching(/'CloudEvent.EventID'.*'required'/) });
  });

  it('keeps what it can read of a refused batch entry: a string id and type, nothing else', () => {
    const result = eventsFromRequest(
      request({
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        body: Buffer.from(JSON.stringify([5, null, { id: 7, type: 't' }, { id: 'i', type: 8 }])),
      }),
    );
    const notAnObject = "CloudEvent doesn't validate: the event must be a JSON object";
    expect(result).toStrictEqual({
      mode: 'batch',
      entries: [
        { error: notAnObject },
        { error: notAnObject },
        { error: expect.stringContaining("'CloudEvent.specversion'"), type: 't' },
        { error: expect.stringContaining("'CloudEvent.specversion'"), id: 'i' },
      ],
    });
  });

  it('reads 0.1 binary headers only when all four are there', () => {
    const event = eventFromRequest(request({ headers: { 'ce-eventtype': 'a', 'ce-source': '/s', 'ce-eventid': '1' } }));
    expect(event.eventType).toBe('http.request');
  });

  it('takes the optional 0.1 binary headers, and leaves out what is absent', () => {
    const headers = { 'ce-eventtype': 'a', 'ce-cloudeventsversion': '0.1', 'ce-source': '/s', 'ce-eventid': '1' };
    expect(eventFromRequest(request({ headers }))).toStrictEqual({ eventType: 'a', cloudEventsVersion: '0.1', source: '/s', eventID: '1', data: '' });
    const full = eventFromRequest(request({ headers: { ...headers, 'ce-eventtypeversion': '2', 'ce-schemaurl': 'https://s.example/schema' } }));
    expect(full).toStrictEqual({ eventType: 'a', cloudEventsVersion: '0.1', source: '/s', eventID: '1', eventTypeVersion: '2', schemaURL: 'https://s.example/schema', data: '' });
  });

  it('refuses an invalid 0.1 binary event with a 400', () => {
    const err = invalid(request({ headers: { 'ce-eventtype': 'a', 'ce-cloudeventsversion': '0.1', 'ce-source': 'not a uri', 'ce-eventid': '1' } }));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ message: "CloudEvent doesn't validate: Key: 'CloudEvent.Source' Error:Field validation for 'Source' failed on the 'uri' tag" });
  });

  it('wraps a legacy Event body unless it is a valid CloudEvent sent as JSON', () => {
    const json = eventFromRequest(request({ headers: { event: 'pageVisited', 'content-type': 'application/json' }, body: Buffer.from('{"a":1}') }));
    expect([json.eventType, json.data]).toEqual(['pageVisited', { a: 1 }]);
    const text = eventFromRequest(request({ headers: { event: 'pageVisited', 'content-type': 'text/plain' }, body: Buffer.from(JSON.stringify(validEvent)) }));
    expect([text.eventType, text.data]).toEqual(['pageVisited', Buffer.from(JSON.stringify(validEvent)).toString('base64')]);
  });

  it('marks http.request events as JSON, and finds the host in the request or its Host header', () => {
    const event = eventFromRequest(request({ method: 'GET', host: undefined, headers: { host: 'h.example:1', 'x-none': undefined } }));
    expect(event.contentType).toBe('application/json');
    expect(event.data).toMatchObject({ host: 'h.example:1', headers: { Host: 'h.example:1' } });
    expect(Object.keys((event.data as { headers: object }).headers)).toEqual(['Host']);
    expect((eventFromRequest(request({ method: 'GET', host: undefined })).data as { host: string }).host).toBe('');
  });

  it('reads an empty query as no parameters', () => {
    expect(parseQuery('')).toEqual({});
    expect(parseQuery('a=1&b')).toEqual({ a: ['1'], b: [''] });
  });
});
