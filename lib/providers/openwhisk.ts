import type { OpenWhiskConfig } from './config';
import { postEvent, type HttpCallOptions } from './http';
import type { Provider } from './provider';

/**
 * The `openwhisk` provider (Apache OpenWhisk, IBM Cloud Functions): a blocking invocation of the
 * action that returns its result; the event's attributes are the action's parameters.
 */
export function openWhiskProvider(config: OpenWhiskConfig, http: HttpCallOptions): Provider {
  const url = actionUrl(config);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (config.auth) headers.authorization = `Basic ${Buffer.from(config.auth).toString('base64')}`;
  return { invoke: (payload, context) => postEvent(url, payload, headers, http, context) };
}

/** `{apiHost}/api/v1/namespaces/{namespace}/actions/{package/action}?blocking=true&result=true` */
export function actionUrl(config: OpenWhiskConfig): string {
  const host = config.apiHost.replace(/\/+$/, '');
  const action = config.action.split('/').map(encodeURIComponent).join('/');
  return `${host}/api/v1/namespaces/${encodeURIComponent(config.namespace)}/actions/${action}?blocking=true&result=true`;
}
