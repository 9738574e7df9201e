/**
 * Mutation testing of the modules that carry the README's promises (security, identifiers, events,
 * durable delivery): `npm run test:mutation`, one module with `npx stryker run --mutate <file>`.
 * The command line's composition root (lib/server/main.ts, lib/server/backends.ts) runs in the test's own
 * process too: test/unit/command.test.ts runs main() in a stand-in process (its output, environment, signals).
 * The HTML report is written to reports/mutation/mutation.html (git-ignored).
 *
 * Equivalent mutants (they cannot change behaviour), one line each, left surviving on purpose:
 * validation.ts oneOf `typeof v === 'string'` → true: includes() of a non-string in a list of strings is false anyway
 * validation.ts goKind `value === null` → false, and its 'null' → "": checkShape skips null before goKind (2 mutants)
 * validation.ts goKind `typeof value === 'object'` → false, and its 'object' → "": the typeof fallback also says 'object' (2)
 * validation.ts hasShape object and stringMap `value !== null` → true: checkShape skips null before hasShape (2)
 * validation.ts hasShape's `default:` (3 mutants): unreachable, the switch is exhaustive over Shape
 * filter.ts `operator === undefined` → false: with exactly one key the operator is defined
 * filter.ts the single-predicate shortcut → false: every() over one predicate answers the same
 * config-access.ts `value ?? ''` → "Stryker was here!": neither string matches the bearer pattern
 * parse.ts normaliseData's empty-body shortcut → false: the base64 of no bytes is '' too
 * parse.ts normaliseData's JSON catch block emptied: it falls through to the same base64
 * parse.ts looksLikeV1 of a non-object → true: 1.0 and 0.1 validation refuse it with the same message
 * parse.ts a refused batch entry's `typeof item === 'object'` → true: primitives have no string id or type
 * parse.ts parseQuery's empty-query shortcut (2 mutants): URLSearchParams('') has no entries either
 * http-binding.ts HEX without `^` or without `$` (2): the text tested is a slice of at most two characters
 * http-binding.ts decodeHeaderValue's no-`%` shortcut (2 mutants): decoding text without `%` gives it back unchanged
 * http-binding.ts dataOfBinaryBody's JSON catch block emptied: it falls through to the same data_base64
 * http-binding.ts `event.data_base64 === undefined` → true: validation never lets data and data_base64 come together
 * target-network.ts '::/96' → "": unreachable, parseIp reads ::/96 (but :: and ::1) as IPv4-compatible
 * target-network.ts prefix `/^\d+$/` without `$`: Number() of anything after the digits is NaN or not an integer, refused
 * target-network.ts agent host `?? ''`: node:http always passes a host
 * target-network.ts the bracket regex without `^` or `$` (2): brackets only ever come at the ends of a host
 * main.ts readKeysFile's 'utf8' → "": the file then comes back as a Buffer, which JSON.parse reads as the same UTF-8 text
 * main.ts readKeysFile's `?? 'error'` → "" (no coverage): a failed readFileSync always carries an error code
 * sqlite.ts countPending `get()?.n` → `get().n`, and nextDue `get(now)?.at` → `.at` (2): COUNT() and MIN() always return one row
 * sqlite.ts scheduleFlush's `if (this.flushScheduled)` → false, and `flushScheduled = true` → false (2): the extra setImmediate finds the writes taken (flush of nothing returns) or commits later ones sooner, each write still with its batch
 * sqlite.ts flush's nothing-to-write shortcut → false: an empty deferred transaction takes no lock and writes nothing
 * sqlite.ts writeOutcome's `default:` (3 mutants): unreachable, the switch is exhaustive over Outcome
 * sqlite.ts scheduleWake `at >= this.wakeAt` → `>`: a timer for the same moment replaces its twin
 * sqlite.ts pump's `?? 'attempt'` → "": it applies only without breakers, and then judge returns before reading the admission
 * sqlite.ts settle's `outcome.kind === 'dead'` → true: settle never gets a 'park' outcome (pump writes those itself)
 * sqlite.ts bringProbe `this.readyHead > 0` → true or `>= 0` (2): at 0 the probe goes to index -1 and readyHead to -1, so it is handed out first, as by unshift
 * sqlite.ts toDeadLetter `row.last_error ?? ''`: a dead row is only ever written with its error
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
    'lib/server/main.ts',
    'lib/server/backends.ts',
  ],
  // Most of a run is runners waiting out mutants that hang (a delivery that never comes, an endless
  // loop): measured on an idle 2-core machine, four runners keep both cores busy (the whole run
  // 17 min 50 s, against an estimated hour with two runners and the default 5 s allowance).
  concurrency: 4,
  // A hang is declared 2 s past 1.5× the time its tests took in the initial run (Stryker's default allowance
  // is 5 s). On a loaded machine raise it (--timeoutMS 5000) so slow tests are not counted as hangs.
  timeoutMS: 2000,
  reporters: ['html', 'clear-text', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  // What the unit tests do not need is not copied into Stryker's sandbox.
  ignorePatterns: ['/dist', '/cdk.out', '/coverage', '/event-gateway-data', '/reports'],
  thresholds: { high: 90, low: 85, break: null },
};
