// Preloaded into every test process (and, through execArgv, into the SDK's workflow threads, where
// the Runtime must not be installed): worker lifecycle chatter at INFO buries the test report.
const { isMainThread } = require('node:worker_threads');

if (isMainThread) {
  const { DefaultLogger, Runtime } = require('@temporalio/worker');
  Runtime.install({ logger: new DefaultLogger('WARN') });
}
