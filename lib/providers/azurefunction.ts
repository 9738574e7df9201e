import type { AzureFunctionConfig } from './config';
import { postEvent, type HttpCallOptions } from './http';
import type { Provider } from './provider';

/** The `azurefunction` provider: the event is POSTed to the HTTP trigger, with its key as `x-functions-key`. */
export function azureFunctionProvider(config: AzureFunctionConfig, http: HttpCallOptions): Provider {
  const headers: Record<string, string> = config.functionKey ? { 'x-functions-key': config.functionKey } : {};
  return { invoke: (payload, context) => postEvent(config.url, payload, headers, http, context) };
}
