import { errorOf, call, startTestGateway, type TestGateway } from '../support/gateway';

describe('Config API', () => {
  let gw: TestGateway;
  let base: string;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw.stop();
  });
  let n = 0;
  beforeEach(() => {
    base = gw.space(`space${++n}`);
  });

  const fn = (functionId: string, extra: object = {}) => ({ functionId, type: 'http', provider: { url: 'http://127.0.0.1:9/' }, ...extra });
  const setup = async () => {
    await call('POST', `${base}/eventtypes`, { name: 'user.created' });
    await call('POST', `${base}/functions`, fn('fn1'));
  };

  describe('event types', () => {
    it('creates, reads, updates, lists and deletes an event type', async () => {
      const created = await call('POST', `${base}/eventtypes`, { name: 'user.created', metadata: { team: 'a' } });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ space: `space${n}`, name: 'user.created', metadata: { team: 'a' } });
      expect((await call('GET', `${base}/eventtypes/user.created`)).body.name).toBe('user.created');
      const updated = await call('PUT', `${base}/eventtypes/user.created`, { metadata: { team: 'b' } });
      expect(updated.status).toBe(200);
      expect(updated.body.metadata).toEqual({ team: 'b' });
      expect((await call('GET', `${base}/eventtypes`)).body).toEqual({ eventTypes: [updated.body] });
      expect((await call('DELETE', `${base}/eventtypes/user.created`)).status).toBe(204);
      expect((await call('GET', `${base}/eventtypes`)).body).toEqual({ eventTypes: [] });
    });

    it('answers 409 for an event type that exists', async () => {
      await call('POST', `${base}/eventtypes`, { name: 'dup' });
      const res = await call('POST', `${base}/eventtypes`, { name: 'dup' });
      expect(res.status).toBe(409);
      expect(errorOf(res.body)).toBe('Event Type "dup" already exists.');
      expect(res.headers.get('content-type')).toBe('application/json');
    });

    it('answers 404 for a missing event type on get, update and delete', async () => {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const res = await call(method, `${base}/eventtypes/ghost`, method === 'PUT' ? {} : undefined);
        expect(res.status).toBe(404);
        expect(errorOf(res.body)).toBe('Event Type "ghost" not found.');
      }
    });

    it('answers 400 for an invalid event type name', async () => {
      const res = await call('POST', `${base}/eventtypes`, { name: 'bad name!' });
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toBe(
        "Event Type doesn't validate. Validation error: Key: 'Type.Name' Error:Field validation for 'Name' failed on the 'eventType' tag",
      );
    });

    it('refuses an authorizer function that does not exist', async () => {
      const res = await call('POST', `${base}/eventtypes`, { name: 'guarded', authorizerId: 'nobody' });
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toBe("Authorizer function doesn't exists.");
    });

    it('refuses to delete an event type still used by a subscription', async () => {
      await setup();
      await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'user.created', functionId: 'fn1' });
      const res = await call('DELETE', `${base}/eventtypes/user.created`);
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toBe('Event type cannot be deleted because there are subscriptions using it.');
    });

    it('filters lists on metadata', async () => {
      await call('POST', `${base}/eventtypes`, { name: 'a', metadata: { env: 'prod', team: 'x' } });
      await call('POST', `${base}/eventtypes`, { name: 'b', metadata: { env: 'dev' } });
      const res = await call('GET', `${base}/eventtypes?metadata.env=prod&metadata.team=x`);
      expect(res.body.eventTypes.map((e: any) => e.name)).toEqual(['a']);
      expect((await call('GET', `${base}/eventtypes?`)).body.eventTypes).toHaveLength(2);
    });
  });

  describe('functions', () => {
    it('registers an http function and an awslambda one without contacting the provider', async () => {
      const http = await call('POST', `${base}/functions`, fn('web'));
      expect(http.status).toBe(201);
      expect(http.body).toEqual({ space: `space${n}`, functionId: 'web', type: 'http', provider: { url: 'http://127.0.0.1:9/' } });
      const lambda = await call('POST', `${base}/functions`, { functionId: 'lambda', type: 'awslambda', provider: { arn: 'arn::::', region: 'us-east-1' } });
      expect(lambda.status).toBe(201);
    });

    it('answers 409 for a function that is already registered', async () => {
      await call('POST', `${base}/functions`, fn('twice'));
      const res = await call('POST', `${base}/functions`, fn('twice'));
      expect(res.status).toBe(409);
      expect(errorOf(res.body)).toBe('Function "twice" already registered.');
    });

    it('answers 404 for a missing function', async () => {
      const res = await call('GET', `${base}/functions/ghost`);
      expect(res.status).toBe(404);
      expect(errorOf(res.body)).toBe('Function "ghost" not found.');
    });

    it.each([
      ['no functionId', { type: 'http', provider: { url: 'http://x/' } }, "Key: 'Function.ID' Error:Field validation for 'ID' failed on the 'required' tag"],
      ['an invalid functionId', fn('no spaces'), "Key: 'Function.ID' Error:Field validation for 'ID' failed on the 'functionid' tag"],
      ['an http function without url', { functionId: 'f', type: 'http', provider: {} }, "Key: 'HTTP.URL' Error:Field validation for 'URL' failed on the 'required' tag"],
      ['a lambda without region', { functionId: 'f', type: 'awslambda', provider: { arn: 'arn::::' } }, "Key: 'AWSLambda.Region' Error:Field validation for 'Region' failed on the 'required' tag"],
      ['a provider of the wrong type', { functionId: 'f', type: 'http', provider: 'http://x/' }, 'json: cannot unmarshal string into Go struct field Function.provider'],
    ])('answers 400 for %s', async (_name, body, detail) => {
      const res = await call('POST', `${base}/functions`, body);
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toContain(`Function doesn't validate. Validation error: ${detail}`);
    });

    it('answers 400 for an unknown function type', async () => {
      const res = await call('POST', `${base}/functions`, { functionId: 'f', type: 'carrierpigeon', provider: {} });
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toMatch(/^Function doesn't validate\. Validation error: .*'Type'/);
    });

    it('updates a function and refuses to delete one still subscribed', async () => {
      await setup();
      const updated = await call('PUT', `${base}/functions/fn1`, { type: 'http', provider: { url: 'http://127.0.0.1:10/' } });
      expect(updated.status).toBe(200);
      expect(updated.body.provider.url).toBe('http://127.0.0.1:10/');
      await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'user.created', functionId: 'fn1' });
      const res = await call('DELETE', `${base}/functions/fn1`);
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toBe("Function cannot be deleted because it's subscribed to a least one event.");
    });

    it('refuses to delete a function used as an authorizer', async () => {
      await call('POST', `${base}/functions`, fn('auth'));
      await call('POST', `${base}/eventtypes`, { name: 'guarded', authorizerId: 'auth' });
      const res = await call('DELETE', `${base}/functions/auth`);
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toBe('Function auth cannot be deleted because is used as an authorizer for guarded event type.');
    });

    it('validates an update body before looking the resource up', async () => {
      for (const [resource, body] of [
        ['functions', { type: 'http', provider: {} }],
        ['subscriptions', { type: 'later' }],
        ['cors', { method: 'FETCH' }],
      ] as const) {
        const res = await call('PUT', `${base}/${resource}/unknown-id`, body);
        expect([resource, res.status]).toEqual([resource, 400]);
      }
    });

    it('refuses the mask as a secret when there is no stored secret to keep', async () => {
      const provider = { arn: 'arn:aws:lambda:us-east-1:1:function:f', region: 'us-east-1', awsAccessKeyId: 'AKIA', awsSecretAccessKey: '*****' };
      const created = await call('POST', `${base}/functions`, { functionId: 'masked', type: 'awslambda', provider });
      expect(created.status).toBe(400);
      expect(errorOf(created.body)).toContain("'awsSecretAccessKey' is the mask of a stored secret");
      await call('POST', `${base}/functions`, { functionId: 'plain', type: 'http', provider: { url: 'http://127.0.0.1:9/' } });
      const retyped = await call('PUT', `${base}/functions/plain`, { type: 'awslambda', provider });
      expect(retyped.status).toBe(400);
    });

    it('masks secrets in responses and keeps them when a masked value is sent back', async () => {
      const created = await call('POST', `${base}/functions`, {
        functionId: 'secretive',
        type: 'awslambda',
        provider: { arn: 'arn:aws:lambda:us-east-1:1:function:f', region: 'us-east-1', awsAccessKeyId: 'AKIA', awsSecretAccessKey: 'SHH' },
      });
      expect(created.body.provider.awsSecretAccessKey).toBe('*****');
      expect(JSON.stringify((await call('GET', `${base}/functions`)).body)).not.toContain('SHH');
      const roundTrip = await call('PUT', `${base}/functions/secretive`, { type: 'awslambda', provider: created.body.provider });
      expect(roundTrip.status).toBe(200);
    });
  });

  describe('subscriptions', () => {
    it('creates an async subscription with the contract ID and defaults', async () => {
      await call('POST', `${base}/eventtypes`, { name: 'test.event' });
      await call('POST', `${base}/functions`, fn('test'));
      const res = await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'test.event', functionId: 'test' });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        space: `space${n}`,
        subscriptionId: 'YXN5bmMsdGVzdC5ldmVudCx0ZXN0LCUyRixQT1NU',
        type: 'async',
        eventType: 'test.event',
        functionId: 'test',
        path: '/',
        method: 'POST',
      });
      expect((await call('GET', `${base}/subscriptions/${res.body.subscriptionId}`)).body).toEqual(res.body);
    });

    it('adds the leading slash and upper-cases the method', async () => {
      await setup();
      const res = await call('POST', `${base}/subscriptions`, { type: 'sync', eventType: 'user.created', functionId: 'fn1', path: 'users', method: 'get' });
      expect(res.body).toMatchObject({ path: '/users', method: 'GET' });
    });

    it('validates the body before looking anything up', async () => {
      const res = await call('POST', `${base}/subscriptions`, { eventType: 'nothing', functionId: 'nobody' });
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toBe(
        "Subscription doesn't validate. Validation error: Key: 'Subscription.Type' Error:Field validation for 'Type' failed on the 'required' tag",
      );
    });

    it('joins several failures with a newline', async () => {
      const res = await call('POST', `${base}/subscriptions`, { type: 'later' });
      expect(errorOf(res.body)).toBe(
        "Subscription doesn't validate. Validation error: " +
          [
            "Key: 'Subscription.Type' Error:Field validation for 'Type' failed on the 'eq=async|eq=sync' tag",
            "Key: 'Subscription.EventType' Error:Field validation for 'EventType' failed on the 'required' tag",
            "Key: 'Subscription.FunctionID' Error:Field validation for 'FunctionID' failed on the 'required' tag",
          ].join('\n'),
      );
    });

    it('answers 404 when the function or the event type does not exist', async () => {
      await call('POST', `${base}/eventtypes`, { name: 'user.created' });
      const noFn = await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'user.created', functionId: 'ghost' });
      expect(noFn.status).toBe(404);
      expect(errorOf(noFn.body)).toBe('Function "ghost" not found.');
      await call('POST', `${base}/functions`, fn('fn1'));
      const noType = await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'ghost.type', functionId: 'fn1' });
      expect(noType.status).toBe(404);
      expect(errorOf(noType.body)).toBe('Event Type "ghost.type" not found.');
    });

    it('answers 409 for a subscription that exists', async () => {
      await setup();
      const body = { type: 'async', eventType: 'user.created', functionId: 'fn1' };
      const first = await call('POST', `${base}/subscriptions`, body);
      const res = await call('POST', `${base}/subscriptions`, body);
      expect(res.status).toBe(409);
      expect(errorOf(res.body)).toBe(`Subscription "${first.body.subscriptionId}" already exists.`);
    });

    it('answers 404 for a missing subscription', async () => {
      const res = await call('DELETE', `${base}/subscriptions/nope`);
      expect(res.status).toBe(404);
      expect(errorOf(res.body)).toBe('Subscription "nope" not found.');
    });

    it('allows many async subscriptions but only one sync subscription per route', async () => {
      await setup();
      await call('POST', `${base}/functions`, fn('fn2'));
      const sync = { type: 'sync', eventType: 'user.created', path: '/users', method: 'GET' };
      expect((await call('POST', `${base}/subscriptions`, { ...sync, functionId: 'fn1' })).status).toBe(201);
      const second = await call('POST', `${base}/subscriptions`, { ...sync, functionId: 'fn2' });
      expect(second.status).toBe(409);
      const async1 = await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'user.created', functionId: 'fn1' });
      const async2 = await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'user.created', functionId: 'fn2' });
      expect([async1.status, async2.status]).toEqual([201, 201]);
    });

    it.each([
      ['a static segment where a parameter is registered', '/users/:id', '/users/me'],
      ['two parameters of different names', '/users/:id', '/users/:name'],
      ['a segment beside a wildcard', '/files/*path', '/files/readme'],
    ])('rejects a sync subscription with %s', async (_name, first, second) => {
      await setup();
      await call('POST', `${base}/functions`, fn('fn2'));
      const sync = { type: 'sync', eventType: 'user.created', method: 'GET' };
      expect((await call('POST', `${base}/subscriptions`, { ...sync, functionId: 'fn1', path: first })).status).toBe(201);
      const res = await call('POST', `${base}/subscriptions`, { ...sync, functionId: 'fn2', path: second });
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toMatch(/^Subscription path conflict: /);
    });

    it('words a parameter name conflict as the original gateway did', async () => {
      await setup();
      await call('POST', `${base}/functions`, fn('fn2'));
      const sync = { type: 'sync', eventType: 'user.created', method: 'GET' };
      await call('POST', `${base}/subscriptions`, { ...sync, functionId: 'fn1', path: '/users/:id' });
      const res = await call('POST', `${base}/subscriptions`, { ...sync, functionId: 'fn2', path: '/users/:name' });
      expect(errorOf(res.body)).toBe('Subscription path conflict: parameter with different name ("id") already defined: for route: /users/:name');
    });

    it('updates only metadata and names the field that may not change', async () => {
      await setup();
      const created = await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'user.created', functionId: 'fn1' });
      const id = created.body.subscriptionId;
      const ok = await call('PUT', `${base}/subscriptions/${id}`, { ...created.body, metadata: { owner: 'me' } });
      expect(ok.status).toBe(200);
      expect(ok.body.metadata).toEqual({ owner: 'me' });
      const cases: Array<[string, object]> = [
        ['Type', { type: 'sync' }],
        ['FunctionID', { functionId: 'other' }],
        ['Path', { path: '/other' }],
        ['Method', { method: 'PUT' }],
        ['EventType', { eventType: 'other.type' }],
      ];
      for (const [field, change] of cases) {
        const res = await call('PUT', `${base}/subscriptions/${id}`, { ...created.body, ...change });
        expect(res.status).toBe(400);
        expect(errorOf(res.body)).toBe(`Invalid update. '${field}' of existing subscription cannot be updated.`);
      }
    });
  });

  describe('CORS', () => {
    it('creates a configuration with the defaults and addresses it by its escaped ID', async () => {
      const res = await call('POST', `${base}/cors`, { method: 'GET', path: '/test' });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        space: `space${n}`,
        corsId: 'GET%2Ftest',
        method: 'GET',
        path: '/test',
        allowedOrigins: ['*'],
        allowedMethods: ['HEAD', 'GET', 'POST'],
        allowedHeaders: ['Origin', 'Accept', 'Content-Type'],
        allowCredentials: false,
      });
      expect((await call('GET', `${base}/cors/GET%2Ftest`)).status).toBe(200);
      expect((await call('DELETE', `${base}/cors/GET%2Ftest`)).status).toBe(204);
    });

    it('answers 409, 404 and 400 with the CORS messages', async () => {
      await call('POST', `${base}/cors`, { method: 'GET', path: '/x' });
      const dup = await call('POST', `${base}/cors`, { method: 'GET', path: '/x' });
      expect([dup.status, errorOf(dup.body)]).toEqual([409, 'CORS configuration "GET%2Fx" already exists.']);
      const missing = await call('GET', `${base}/cors/GET%2Fnothing`);
      expect([missing.status, errorOf(missing.body)]).toEqual([404, 'CORS configuration "GET%2Fnothing" not found.']);
      const bad = await call('POST', `${base}/cors`, { method: 'FETCH', path: '/x' });
      expect(bad.status).toBe(400);
      expect(errorOf(bad.body)).toMatch(/^CORS configuration doesn't validate\. Validation error: Key: 'CORS.Method'/);
    });

    it('refuses to change the method or path of a configuration', async () => {
      await call('POST', `${base}/cors`, { method: 'GET', path: '/x' });
      const ok = await call('PUT', `${base}/cors/GET%2Fx`, { method: 'GET', path: '/x', allowedOrigins: ['https://a.example'] });
      expect(ok.body.allowedOrigins).toEqual(['https://a.example']);
      const res = await call('PUT', `${base}/cors/GET%2Fx`, { method: 'POST', path: '/x' });
      expect([res.status, errorOf(res.body)]).toEqual([400, "Invalid update. 'Method' of existing CORS configuration cannot be updated."]);
      const path = await call('PUT', `${base}/cors/GET%2Fx`, { method: 'GET', path: '/y' });
      expect(errorOf(path.body)).toBe("Invalid update. 'Path' of existing CORS configuration cannot be updated.");
    });
  });

  describe('bad input', () => {
    it.each([
      ['eventtypes', 'Event Type'],
      ['functions', 'Function'],
      ['subscriptions', 'Subscription'],
      ['cors', 'CORS configuration'],
    ])('answers malformed JSON to /%s with the resource message', async (resource, prefix) => {
      const res = await call('POST', `${base}/${resource}`, '{"broken":');
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toMatch(new RegExp(`^${prefix} doesn't validate\\. Validation error: `));
    });

    it('answers a body of the wrong JSON type with a clear message', async () => {
      const res = await call('POST', `${base}/functions`, '[1,2]');
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toBe("Function doesn't validate. Validation error: json: cannot unmarshal array into Go value of type function.Function");
    });

    it('answers a field of the wrong type with a clear message', async () => {
      const res = await call('POST', `${base}/eventtypes`, { name: 42 });
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toContain('cannot unmarshal number into Go struct field Type.name of type string');
    });

    it.each([
      ['eventtypes', { name: 'x' }, "Event Type doesn't validate. Validation error: Key: 'Type.Space' Error:Field validation for 'Space' failed on the 'min' tag"],
      ['functions', { functionId: 'f', type: 'http', provider: { url: 'http://example.com/' } }, "Function doesn't validate. Validation error: Key: 'Function.Space' Error:Field validation for 'Space' failed on the 'min' tag"],
      ['subscriptions', { type: 'async', eventType: 'x', functionId: 'f', path: '/', method: 'POST' }, "Subscription doesn't validate. Validation error: Key: 'Subscription.Space' Error:Field validation for 'Space' failed on the 'min' tag"],
      ['cors', { method: 'GET', path: '/test' }, "CORS configuration doesn't validate. Validation error: Key: 'CORS.Space' Error:Field validation for 'Space' failed on the 'min' tag"],
    ])('refuses a space name in the URL that is too short on the min tag (%s)', async (resource, body, message) => {
      const res = await call('POST', `${gw.space('ab')}/${resource}`, body);
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toBe(message);
    });

    it('answers unknown routes with a JSON 404', async () => {
      for (const url of [`${gw.configUrl}/v1/nothing`, `${base}/widgets`, `${gw.configUrl}/`]) {
        const res = await call('GET', url);
        expect(res.status).toBe(404);
        expect(res.headers.get('content-type')).toBe('application/json');
        expect(typeof errorOf(res.body)).toBe('string');
      }
    });

    it('answers an oversized body with 413 and the JSON error', async () => {
      const res = await call('POST', `${base}/functions`, JSON.stringify({ functionId: 'big', pad: 'x'.repeat(2 * 1024 * 1024) }));
      expect(res.status).toBe(413);
      expect(typeof errorOf(res.body)).toBe('string');
      expect((await call('GET', `${base}/functions/big`)).status).toBe(404);
    });

    it('answers status and metrics', async () => {
      expect((await call('GET', `${gw.configUrl}/v1/status`)).status).toBe(200);
      const metrics = await fetch(`${gw.configUrl}/v1/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('eventgateway_config_requests_total');
    });
  });
});
