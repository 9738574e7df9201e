/** What the SDK takes as credentials. */
interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/**
 * The AWS SDK's default credential provider, as the Lambda bundles have it: esbuild aliases
 * `@aws-sdk/credential-provider-node` to this file (see GatewayFunction). Lambda always puts the
 * function role's credentials in the environment (so does `sam local`), which is the first link of
 * the SDK's chain; the rest of it (SSO, INI files, web identity, IMDS, ~90 KB minified) never runs there.
 * Target configs with their own keys do not use it.
 */
export function defaultProvider(): () => Promise<Credentials> {
  return async () => {
    // This provider's whole job is reading the environment, as the SDK's `fromEnv` does.
    const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken, AWS_CREDENTIAL_EXPIRATION: expiration } = process.env;
    if (!accessKeyId || !secretAccessKey) throw new Error('AWS credentials are not in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}), ...(expiration ? { expiration: new Date(expiration) } : {}) };
  };
}
