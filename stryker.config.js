/**
 * Mutation testing of the modules that carry the README's promises (security, identifiers, events,
 * durable delivery): `npm run test:mutation`, one module with `npx stryker run --mutate <file>`.
 * lib/server/main.ts runs only in the CLI process: stryker-cli.config.js measures it.
 * The HTML report is written to reports/mutation/mutation.html (git-ignored).
 *
 * Equivalent mutants (they cannot change behaviour), one line each, left surviving on purpose:
 * (none yet)
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
module.exports = {
  testRunner: 'jest',
  jest: { projectType: 'custom', configFile: 'jest.stryker.config.js' },
  coverageAnalysis: 'perTest',
  mutate: [
    'lib/registry/ids.ts',
    'lib/registry/validation.ts',
    'lib/events/cloudevent-v1.ts',
    'lib/events/filter.ts',
    'lib/events/parse.ts',
    'lib/events/http-binding.ts',
    'lib/http/config-access.ts',
    'lib/providers/target-network.ts',
    'lib/routing/path-tree.ts',
    'lib/delivery/sqlite.ts',
    'lib/delivery/retry.ts',
  ],
  // The 2-core machine is shared: two test runners at most.
  concurrency: 2,
  reporters: ['html', 'clear-text', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  // What the unit tests do not need is not copied into Stryker's sandbox.
  ignorePatterns: ['/dist', '/cdk.out', '/coverage', '/event-gateway-data', '/reports'],
  thresholds: { high: 90, low: 85, break: null },
};
