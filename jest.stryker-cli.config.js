/**
 * The tests StrykerJS runs against mutants of the command line's composition root (lib/server/main.ts):
 * they start the built `event-gateway` command as a process, which picks the active mutant up from
 * its environment. See stryker-cli.config.js.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['<rootDir>/test/security/production-start.test.ts', '<rootDir>/test/integration/cli.test.ts'],
  transform: { '^.+\\.(ts|m?js)$': ['@swc/jest'] },
  testTimeout: 30000,
};
