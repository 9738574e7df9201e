/**
 * Mutation testing of lib/server/main.ts, which only runs inside the `event-gateway` process: Stryker
 * builds dist/ from the mutated sources in its sandbox, and the tests start that command. Coverage
 * cannot be traced into a child process, so every test runs against every mutant (slow: minutes).
 * Run with `npx stryker run stryker-cli.config.js`; part of `npm run test:mutation`.
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const base = require('./stryker.config.js');

module.exports = {
  ...base,
  jest: { projectType: 'custom', configFile: 'jest.stryker-cli.config.js', enableFindRelatedTests: false },
  coverageAnalysis: 'off',
  // main.ts is the entry point; backends.ts turns the command line into the gateway's start options.
  mutate: ['lib/server/main.ts', 'lib/server/backends.ts'],
  buildCommand: 'npx tsc -p tsconfig.build.json',
  htmlReporter: { fileName: 'reports/mutation/cli.html' },
};
