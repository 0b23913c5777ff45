import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The payment provider proves its webhooks with a signature: HMAC-SHA256, keyed with the shared
 * secret (PAYMENT_WEBHOOK_SECRET), over `<timestamp>.<raw body>`, sent as
 * `X-Trapeze-Signature: v1=<hex>` with `X-Trapeze-Timestamp: <unix seconds>`. The timestamp is
 * inside the signature, so an old request cannot be replayed with a new time; one older (or
 * further ahead) than the tolerance is refused. Several `v1=` values may be sent (comma-separated)
 * while the provider rotates its secret; several secrets may be configured while we rotate ours.
 */
export const SIGNATURE_HEADER = 'x-trapeze-signature';
export const TIMESTAMP_HEADER = 'x-trapeze-timestamp';
export const DEFAULT_TOLERANCE_SECONDS = 300;

const digest = (secret: string, body: string, timestamp: number) =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');

/** The `X-Trapeze-Signature` value for a body sent at `timestamp` (unix seconds). */
export function signPaymentWebhook(secret: string, body: string, timestamp: number): string {
  return `v1=${digest(secret, body, timestamp)}`;
}

/** Both headers of a signed webhook (what a provider, a test or the demo sends). */
export function paymentWebhookHeaders(
  secret: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  return { [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: signPaymentWebhook(secret, body, timestamp) };
}

export type SignatureVerdict =
  { ok: true } | { ok: false; error: 'signature_missing' | 'signature_stale' | 'signature_invalid'; reason: string };

export function verifyPaymentWebhook({
  secrets,
  body,
  signature,
  timestamp,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
  now = Date.now(),
}: {
  secrets: readonly string[];
  body: string;
  signature: string | undefined;
  timestamp: string | undefined;
  toleranceSeconds?: number;
  now?: number;
}): SignatureVerdict {
  if (!signature || !timestamp)
    return {
      ok: false,
      error: 'signature_missing',
      reason: `a payment webhook carries ${TIMESTAMP_HEADER} and ${SIGNATURE_HEADER} (v1=HMAC-SHA256 of "<timestamp>.<body>")`,
    };
  const sent = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : NaN;
  const skew = Math.abs(Math.floor(now / 1000) - sent);
  if (!Number.isFinite(sent) || skew > toleranceSeconds)
    return {
      ok: false,
      error: 'signature_stale',
      reason: `${TIMESTAMP_HEADER} must be unix seconds within ${toleranceSeconds} s of the server's clock`,
    };
  const offered = signature
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('v1='))
    .map((part) => Buffer.from(part.slice(3), 'hex'));
  const matches = secrets.some((secret) => {
    const expected = Buffer.from(digest(secret, body, sent), 'hex');
    return offered.some((o) => o.length === expected.length && timingSafeEqual(o, expected));
  });
  return matches
    ? { ok: true }
    : { ok: false, error: 'signature_invalid', reason: 'the signature does not match the body and timestamp' };
}
