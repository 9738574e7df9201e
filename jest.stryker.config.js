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
  transformIgnorePatterns: ['/node_modules/(?!(@middy|cookie)/)'],
  testTimeout: 30000,
};
