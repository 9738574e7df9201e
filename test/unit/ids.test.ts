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

  it('keeps every character Go keeps in a path segment, and escapes the rest', () => {
    expect(escapePath("/$&+=@:~-_.'AZaz09")).toBe("%2F$&+=@:~-_.%27AZaz09");
    expect(escapePath('?#%[]!,;')).toBe('%3F%23%25%5B%5D%21%2C%3B');
    expect(escapePath('\n')).toBe('%0A');
  });

  it('writes base64url without padding', () => {
    const id = subscriptionId({ type: 'async', eventType: 'e', functionId: 'f', path: '/', method: 'GET' });
    expect(id).not.toMatch(/[=+/]/);
    // Bytes whose standard base64 has `+`, `/` and padding: base64url writes `-` and `_` and no `=`.
    const awkward = subscriptionId({ type: 'async', eventType: 'e?>', functionId: 'f~', path: '/', method: 'GET' });
    expect(awkward).toBe('YXN5bmMsZT8-LGZ-LCUyRixHRVQ');
    expect(subscriptionId({ type: 'sync', eventType: '???', functionId: 'f', path: '/', method: 'GET' })).toBe('c3luYyw_Pz8sJTJGLEdFVA');
  });

  it('names a CORS configuration by method and escaped path', () => {
    expect(corsId({ method: 'GET', path: '/users' })).toBe('GET%2Fusers');
  });
});
