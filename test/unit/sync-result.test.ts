import { FunctionCallError } from '../../lib/errors';
import { parseSyncResult } from '../../lib/gateway/sync-result';

const result = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('a sync subscriber result', () => {
  it('becomes the HTTP response', () => {
    expect(parseSyncResult(result({ statusCode: 201, headers: { 'X-Id': '7' }, body: 'made' }))).toEqual({
      statusCode: 201,
      headers: { 'x-id': '7' },
      body: 'made',
    });
  });

  it('drops connection headers the function cannot decide', () => {
    const response = parseSyncResult(result({ headers: { 'Transfer-Encoding': 'chunked', 'Content-Length': '999', 'X-Kept': 'yes' }, body: 'x' }));
    expect(response.headers).toEqual({ 'x-kept': 'yes' });
  });

  it('defaults to status 200 and an empty body', () => {
    expect(parseSyncResult(result({}))).toEqual({ statusCode: 200, headers: {}, body: '' });
  });

  it.each([
    ['not JSON', 'hello'],
    ['a JSON array', [1]],
    ['a non-string body', { body: { a: 1 } }],
    ['an impossible status', { statusCode: 99 }],
    ['a header with a line break', { headers: { a: 'x\r\ny: z' } }],
  ])('is malformed when it is %s', (_name, value) => {
    const act = () => parseSyncResult(result(value));
    expect(act).toThrow(FunctionCallError);
    expect(act).toThrow('HTTP response object malformed');
  });
});
