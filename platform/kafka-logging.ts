import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';

/**
 * kafkajs logs through pino, so a process has one structured log. Connection errors during a
 * broker outage are expected and handled by the caller's backoff: they are logged at warn.
 */
export function kafkaLogs(log: Logger): logCreator {
  const kafka = log.child({ component: 'kafkajs' });
  return () =>
    ({ level, log: entry }) => {
      const { message, ...fields } = entry;
      if (level <= logLevel.WARN) kafka.warn(fields, message);
      else if (level === logLevel.INFO) kafka.debug(fields, message);
      else kafka.trace(fields, message);
    };
}
