import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { IncomingRequest } from '../events/request';
import type { GatewayResponse } from '../gateway/response';

/**
 * The neutral request of an API Gateway HTTP API (payload format 2.0) event. API Gateway already
 * lower-cases header names and joins repeats with commas; it moves cookies out of the headers, so
 * they are put back as one `cookie` header.
 */
export function requestFromApiGateway(event: APIGatewayProxyEventV2): IncomingRequest {
  const headers: IncomingRequest['headers'] = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  if (event.cookies && event.cookies.length > 0) headers.cookie = event.cookies.join('; ');
  const raw = event.body ?? '';
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: event.rawQueryString ?? '',
    headers,
    body: Buffer.from(raw, event.isBase64Encoded ? 'base64' : 'utf8'),
    host: headers.host === undefined ? event.requestContext.domainName : String(headers.host),
  };
}

/** The API Gateway result of a neutral response; binary bodies travel base64-encoded. */
export function responseToApiGateway(response: GatewayResponse): APIGatewayProxyStructuredResultV2 {
  const binary = typeof response.body !== 'string';
  return {
    statusCode: response.statusCode,
    headers: response.headers,
    body: binary ? (response.body as Buffer).toString('base64') : (response.body as string),
    isBase64Encoded: binary,
  };
}
