import { randomBytes } from 'node:crypto';
import { paymentWebhookHeaders } from '../../../api/payment-webhook';
import { developmentTokens, tokensFrom, type Role } from '../../../platform/auth';

/**
 * One token per role and a webhook secret for an API under test, and callers that present them:
 * `caller(url, 'client')` sends the client's bearer token, `caller(url, undefined)` none, and
 * `caller(url, 'forged')` a token that no role has.
 */
export type Reply = { status: number; body: Record<string, unknown>; headers: Headers };
export type Caller = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Reply>;

export function testAuth() {
  const { tokens, entries } = developmentTokens();
  const webhookSecret = randomBytes(24).toString('base64url');
  const send = async (url: string, method: string, path: string, body: unknown, headers: Record<string, string>) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown>, headers: res.headers };
  };
  return {
    tokens,
    webhookSecret,
    serverOptions: { tokens: tokensFrom(entries), webhook: { secrets: [webhookSecret] } },
    caller:
      (url: string, as: Role | 'forged' | undefined): Caller =>
      (method, path, body, headers = {}) => {
        const token = as === 'forged' ? `trp_${as}_${randomBytes(18).toString('base64url')}` : as && tokens[as];
        return send(url, method, path, body, { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers });
      },
    /** The payment provider: posts a result signed with `secret` (the configured one by default) at `timestamp`. */
    provider:
      (url: string) =>
      (orderId: string, result: unknown, { secret = webhookSecret, timestamp }: { secret?: string; timestamp?: number } = {}) => {
        const body = JSON.stringify(result);
        return send(url, 'POST', `/orders/${orderId}/payment-result`, body, paymentWebhookHeaders(secret, body, timestamp));
      },
  };
}
