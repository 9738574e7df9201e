/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // middy 6 is ESM only: let swc turn it (and its `cookie` dependency) into CommonJS for jest. The OTLP
  // exporter loads node:http with import(), which jest's CommonJS runtime refuses: swc makes it a require.
  transform: { '^.+\\.(ts|m?js)$': ['@swc/jest'] },
  transformIgnorePatterns: ['/node_modules/(?!(@middy|cookie|@opentelemetry/otlp-exporter-base)/)'],
  // One DynamoDB Local (Java) for the run; the DynamoDB tests fail, not skip, when it cannot start.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // A promise rejected without a handler fails the test (see the file).
  setupFilesAfterEnv: ['<rootDir>/test/support/fail-on-unhandled.ts'],
  testTimeout: 30000,
};
