import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { orderIdFromWorkflowId } from '../domain/ids';

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

/** `output`: a format for stdout, or a stream that takes JSON lines (tests read them back). */
export function createLogger(
  name: string,
  level: Level | 'silent' = 'info',
  output: LogFormat | DestinationStream = logFormat(),
): Logger {
  const options = { name, level, redact: { paths: redactedPaths, censor: '[redacted]' } };
  if (typeof output !== 'string') return pino(options, output);
  return output === 'pretty' ? pino(options, prettyStream()) : pino(options);
}

/** The Temporal SDK's logger interface (@temporalio/common), spelled out so platform/ needs no SDK import. */
export type SdkLogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export interface SdkLogger {
  log(level: SdkLogLevel, message: string, meta?: Record<string | symbol, unknown>): void;
  trace(message: string, meta?: Record<string | symbol, unknown>): void;
  debug(message: string, meta?: Record<string | symbol, unknown>): void;
  info(message: string, meta?: Record<string | symbol, unknown>): void;
  warn(message: string, meta?: Record<string | symbol, unknown>): void;
  error(message: string, meta?: Record<string | symbol, unknown>): void;
}

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** The SDK level that lets through what a pino level does. */
const SDK_LEVEL: Record<Level | 'silent', SdkLogLevel> = {
  fatal: 'ERROR',
  error: 'ERROR',
  warn: 'WARN',
  info: 'INFO',
  debug: 'DEBUG',
  trace: 'TRACE',
  silent: 'ERROR',
};
export const sdkLevelOf = (level: Level | 'silent'): SdkLogLevel => SDK_LEVEL[level];

/**
 * The SDK's logs (the worker's, Core's, and the workflow `log` and activity `log` lines of saga
 * work) through the project's pino logger and its redaction: the SDK's attributes (workflowId,
 * runId, activityType, …) become fields, and a saga's lines gain the `orderId` its workflow id
 * names. `observe` sees every line first (the saga worker counts failed workflow tasks with it).
 */
export function sdkLogger(
  log: Logger,
  observe?: (level: SdkLogLevel, message: string, meta: Record<string, unknown>) => void,
): SdkLogger {
  const write = (level: SdkLogLevel, message: string, meta: Record<string | symbol, unknown> = {}) => {
    // String keys only: the SDK's timestamp rides on a symbol, pino stamps its own time.
    const fields: Record<string, unknown> = Object.fromEntries(Object.entries(meta));
    const workflowId = fields.workflowId ?? (fields.workflowExecution as { workflowId?: unknown } | undefined)?.workflowId;
    if (typeof workflowId === 'string' && fields.orderId === undefined) {
      const orderId = orderIdFromWorkflowId(workflowId);
      if (orderId !== undefined) fields.orderId = orderId;
    }
    // Activities name their run `workflowRunId`; one field name for every line of a saga.
    if (fields.runId === undefined && fields.workflowRunId !== undefined) fields.runId = fields.workflowRunId;
    observe?.(level, message, fields);
    log[PINO_LEVEL[level]](fields, message);
  };
  return {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
}
