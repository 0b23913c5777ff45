// Preloaded into every test process (and, through execArgv, into the SDK's workflow threads, where
// the Runtime must not be installed): worker lifecycle chatter at INFO buries the test report.
const { isMainThread } = require('node:worker_threads');

// A `*.runtime.test.ts` file tests how a process installs the Runtime (its logger): it installs its own.
const ownRuntime = process.argv.some((arg) => arg.endsWith('.runtime.test.ts'));

if (isMainThread && !ownRuntime) {
  const { DefaultLogger, Runtime } = require('@temporalio/worker');
  // Core warns about every nondeterminism it meets; the replay and mutation tests meet hundreds on purpose.
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'WARN' } } },
  });
}
