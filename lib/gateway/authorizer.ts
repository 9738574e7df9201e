import type { CloudEvent } from '../events/accessors';
import type { HttpRequestData } from '../events/parse';
import type { InvocationContext, Provider } from '../providers/provider';

/** What an authorizer decided. */
export type AuthorizationResult =
  | { allowed: true; authorization: { principalId?: unknown; context?: unknown } }
  | { allowed: false; reason: string; /** The error of a call that failed (rather than an answer that denied). */ failure?: unknown };

/**
 * Asks an authorizer function about an event. It answers `{authorization: {principalId, context}}`
 * to let it through, or `{error: {message}}`; any other answer, or a failed call, denies.
 */
export async function authorize(authorizer: Provider, event: CloudEvent, request: HttpRequestData, context?: InvocationContext): Promise<AuthorizationResult> {
  let answer: unknown;
  try {
    const result = await authorizer.invoke(JSON.stringify({ event, request }), context);
    answer = JSON.parse(result.toString('utf8'));
  } catch (err) {
    return { allowed: false, reason: `authorizer call failed: ${(err as Error).message}`, failure: err };
  }
  if (typeof answer !== 'object' || answer === null) return { allowed: false, reason: 'authorizer answer is not an object' };
  const { authorization, error } = answer as { authorization?: unknown; error?: { message?: unknown } };
  if (error !== undefined && error !== null) return { allowed: false, reason: String(error.message ?? 'denied') };
  if (typeof authorization !== 'object' || authorization === null) return { allowed: false, reason: 'authorizer answer has no authorization' };
  return { allowed: true, authorization: authorization as { principalId?: unknown; context?: unknown } };
}
