/**
 * The tests StrykerJS runs against each mutant: the fast in-process unit tests of the mutated modules
 * (no DynamoDB Local, no gateway processes), so that a mutation run stays within minutes.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/unit'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(ts|m?js)$': ['@swc/jest'] },
  // The OTLP exporter loads node:http with import(), which jest's CommonJS runtime refuses: swc makes it a require.
  transformIgnorePatterns: ['/node_modules/(?!(@middy|cookie|@opentelemetry/otlp-exporter-base)/)'],
  testTimeout: 30000,
};
