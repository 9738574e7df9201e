import { corsId, escapePath, subscriptionId } from '../../lib/registry/ids';

describe('identifiers', () => {
  it('computes the contract example subscription ID', () => {
    const id = subscriptionId({ type: 'async', eventType: 'test.event', functionId: 'test', path: '/', method: 'POST' });
    expect(id).toBe('YXN5bmMsdGVzdC5ldmVudCx0ZXN0LCUyRixQT1NU');
  });

  it('leaves the function out of a sync subscription ID', () => {
    const a = subscriptionId({ type: 'sync', eventType: 'http.request', functionId: 'a', path: '/x', method: 'GET' });
    const b = subscriptionId({ type: 'sync', eventType: 'http.request', functionId: 'b', path: '/x', method: 'GET' });
    expect(a).toBe(b);
    expect(Buffer.from(a, 'base64url').toString()).toBe('sync,http.request,%2Fx,GET');
  });

  it('escapes paths like Go url.PathEscape: slashes escaped, colons kept', () => {
    expect(escapePath('/users/:id')).toBe('%2Fusers%2F:id');
    expect(escapePath('/a b/*rest')).toBe('%2Fa%20b%2F%2Arest');
    expect(escapePath('/ü')).toBe('%2F%C3%BC');
  });

  it('writes base64url without padding', () => {
    const id = subscriptionId({ type: 'async', eventType: 'e', functionId: 'f', path: '/', method: 'GET' });
    expect(id).not.toMatch(/[=+/]/);
  });

  it('names a CORS configuration by method and escaped path', () => {
    expect(corsId({ method: 'GET', path: '/users' })).toBe('GET%2Fusers');
  });
});
