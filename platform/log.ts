import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * The one pino factory of the entrypoints. Logs name orders by id, never by who ordered: the
 * fields that carry personal data (an order's customer, addresses, emails, whole inputs) or
 * secrets (payment tokens, encryption keys, credentials) are redacted wherever a careless
 * `log.info({ order }, …)` puts them, at the top level or one object down.
 */
const SENSITIVE = [
  // personal data: an order request, its customer and addresses
  'order',
  'input',
  'args',
  'customer',
  'shippingAddress',
  'billingAddress',
  'address',
  'email',
  'phone',
  'line1',
  'line2',
  'postalCode',
  'customerName',
  // secrets
  'methodToken',
  'password',
  'authorization',
  'apiKey',
  'secret',
  'keyring',
  'payloadKeys',
  'PAYLOAD_KEYS',
];

export const redactedPaths = [
  ...SENSITIVE,
  ...SENSITIVE.map((f) => `*.${f}`),
  'headers.authorization',
  '*.headers.authorization',
];

/**
 * LOG_FORMAT: `pretty` (colored, one readable line per entry), `json` (one JSON object per line,
 * for collectors), or unset: pretty on a terminal, JSON when stdout is a pipe or file.
 */
export type LogFormat = 'pretty' | 'json';
export function logFormat(env: NodeJS.ProcessEnv = process.env, tty = process.stdout.isTTY === true): LogFormat {
  const chosen = env.LOG_FORMAT?.trim().toLowerCase();
  if (chosen === 'pretty' || chosen === 'json') return chosen;
  return tty ? 'pretty' : 'json';
}

// In process, synchronously: a worker thread per logger would reorder lines against console output.
const prettyStream = (): DestinationStream =>
  pretty({ colorize: process.stdout.isTTY === true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss', sync: true });

export function createLogger(name: string, level: Level | 'silent' = 'info', format: LogFormat = logFormat()): Logger {
  const options = { name, level, redact: { paths: redactedPaths, censor: '[redacted]' } };
  return format === 'pretty' ? pino(options, prettyStream()) : pino(options);
}
