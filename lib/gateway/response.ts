/** A transport-neutral HTTP response. */
export interface GatewayResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** The contract's error body: `{"errors":[{"message": …}]}`. */
export function errorResponse(statusCode: number, message: string, headers: Record<string, string> = {}): GatewayResponse {
  return {
    statusCode,
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ errors: [{ message }] }),
  };
}

/** A JSON response. */
export function jsonResponse(statusCode: number, value: unknown): GatewayResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}
