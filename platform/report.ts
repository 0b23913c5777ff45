import type { Logger } from 'pino';
import { logFormat, type LogFormat } from './log';

/**
 * What `npm start` tells its user between the roles' logs (the stack, the tokens, the demo's
 * outcomes): plain lines when the logs are pretty, and log entries (`msg` = the text) when they are
 * JSON, so a pipe or a collector reads one JSON object per line and nothing else.
 */
export type Say = (text: string) => void;

export function reporter(log: Logger, format: LogFormat = logFormat()): Say {
  if (format === 'pretty') return (text) => console.log(text);
  return (text) => log.info(text);
}
