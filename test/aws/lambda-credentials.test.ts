import { defaultProvider } from '../../lib/aws/lambda-credentials';

describe('the Lambda bundles\' credential provider', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_CREDENTIAL_EXPIRATION']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('reads the function role\'s credentials from the environment, as Lambda sets them', async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token', AWS_CREDENTIAL_EXPIRATION: '2030-01-01T00:00:00Z' });
    await expect(defaultProvider()()).resolves.toEqual({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'token',
      expiration: new Date('2030-01-01T00:00:00Z'),
    });
  });

  it('takes long-lived keys without a session token', async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_CREDENTIAL_EXPIRATION;
    await expect(defaultProvider()()).resolves.toEqual({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });
  });

  it('fails with a readable message when the environment has no credentials', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await expect(defaultProvider()()).rejects.toThrow('AWS credentials are not in the environment');
  });
});
