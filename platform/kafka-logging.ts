import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';

/**
 * What kafkajs says at warn or error that is not news, logged at debug: a protocol reply carrying
 * an error (`Response CreateTopics` when the topic exists, `Response FindCoordinator` / `JoinGroup`
 * while the group coordinator loads) is retried by kafkajs or handled by its caller, which reports
 * what still fails; the partitioner notice is moot (producers name their partitioner).
 */
export const routine = (message: string): boolean =>
  /^(\[\w+\] )?Response \w+\(key: \d+, version: \d+\)/.test(message) ||
  message.includes('switched default partitioner') ||
  /coordinator is (loading|not available)/i.test(message);

/**
 * kafkajs logs through pino, so a process has one structured log. Connection errors during a
 * broker outage are expected and handled by the caller's backoff: they are logged at warn.
 */
export function kafkaLogs(log: Logger): logCreator {
  const kafka = log.child({ component: 'kafkajs' });
  return () =>
    ({ level, log: entry }) => {
      const { message, ...fields } = entry;
      if (level <= logLevel.WARN && routine(message)) kafka.debug(fields, message);
      else if (level <= logLevel.WARN) kafka.warn(fields, message);
      else if (level === logLevel.INFO) kafka.debug(fields, message);
      else kafka.trace(fields, message);
    };
}
