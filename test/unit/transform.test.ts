import { compileTransform, TRANSFORM_LIMITS, validateTransform } from '../../lib/events/transform';
import type { CloudEvent } from '../../lib/events/accessors';

const event: CloudEvent = { eventType: 'user.created', cloudEventsVersion: '0.1', source: '/users', eventID: '1', data: { name: 'Ada', tags: ['a', 'b'] } };

describe('transforms', () => {
  it('accepts an absent transform and a valid one', () => {
    expect(validateTransform(undefined)).toBeUndefined();
    expect(validateTransform({ jsonata: 'data.name', replace: 'event' })).toBeUndefined();
  });

  it('reports a syntax error with jsonata message and position', () => {
    expect(validateTransform({ jsonata: 'data.tags[0' })).toBe('transform: Expected "]" before end of expression at position 11');
  });

  it('replaces data and keeps the envelope', async () => {
    const result = await compileTransform({ jsonata: '{"first": data.tags[0]}', replace: 'data' }).apply(event);
    const transformed = { ...event, contentType: 'application/json', data: { first: 'a' } };
    expect(result).toEqual({ kind: 'event', event: transformed, body: JSON.stringify(transformed) });
  });

  it('makes the whole payload with replace "event"', async () => {
    const result = await compileTransform({ jsonata: '$count(data.tags)', replace: 'event' }).apply(event);
    expect(result).toEqual({ kind: 'payload', body: '2' });
  });

  it('fails with the compile error when a stored expression no longer compiles, instead of delivering untransformed', async () => {
    const broken = compileTransform({ jsonata: 'data.(', replace: 'data' });
    await expect(broken.apply(event)).rejects.toThrow('Transform failed: Expected ")" before end of expression at position 6');
  });

  it('refuses a result that is a function', async () => {
    await expect(compileTransform({ jsonata: 'function($x) { $x }', replace: 'event' }).apply(event)).rejects.toThrow(
      'Transform failed: the expression returned a function, not JSON',
    );
  });

  it('refuses a result holding a lambda, which is not JSON', async () => {
    await expect(compileTransform({ jsonata: '{"f": function($x) { $x }}', replace: 'data' }).apply(event)).rejects.toThrow(/^Transform failed: the result is not JSON/);
  });

  it('stops deep recursion at the depth limit (given all the time it needs, so that depth is what stops it)', async () => {
    const deep = compileTransform({ jsonata: '($depth := function($n) { $n = 0 ? 0 : 1 + $depth($n - 1) }; $depth(100000))', replace: 'data' }, { ...TRANSFORM_LIMITS, timeout: 600_000 });
    await expect(deep.apply(event)).rejects.toThrow(/^Transform failed: Stack overflow\. Check for non-terminating recursive function\./);
  });

  it('bounds sequence length', async () => {
    await expect(compileTransform({ jsonata: '[1..1000000]', replace: 'event' }).apply(event)).rejects.toThrow(/^Transform failed: The maximum sequence length/);
  });
});
