import type { GoogleCloudFunctionConfig } from './config';
import { GoogleIdTokenSource } from './google-id-token';
import { postEvent, type HttpCallOptions } from './http';
import type { Provider } from './provider';

/**
 * The `gcloudfunction` provider: the event is POSTed to the function's HTTPS trigger URL. A private
 * function gets `Authorization: Bearer` with the configured static token, or with an ID token minted
 * from the configured service-account key (audience: `audience` or the URL without its query).
 */
export function googleCloudFunctionProvider(config: GoogleCloudFunctionConfig, http: HttpCallOptions): Provider {
  const bearer = bearerOf(config, http);
  return {
    invoke: async (payload, context) => {
      const token = await bearer();
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      return postEvent(config.url, payload, headers, http, context);
    },
  };
}

function bearerOf(config: GoogleCloudFunctionConfig, http: HttpCallOptions): () => Promise<string | undefined> {
  if (config.serviceAccountKey) {
    const source = new GoogleIdTokenSource(config.serviceAccountKey, config.audience ?? audienceOf(config.url), http);
    return () => source.token();
  }
  return () => Promise.resolve(config.token);
}

/** Google checks the audience against the function's URL without query or fragment. */
function audienceOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
