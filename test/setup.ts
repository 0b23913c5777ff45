import { DefaultLogger, Runtime } from '@temporalio/worker';

// Worker lifecycle chatter at INFO buries the test report; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });
