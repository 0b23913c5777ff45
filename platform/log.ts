import pino, { type Level, type Logger } from 'pino';

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

export function createLogger(name: string, level: Level | 'silent' = 'info'): Logger {
  return pino({ name, level, redact: { paths: redactedPaths, censor: '[redacted]' } });
}
