// Invariant: a payment webhook verifies only with a configured secret over its exact body and
// timestamp, within the tolerance either side of our clock; anything else says why it failed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signPaymentWebhook, verifyPaymentWebhook } from '../../../api/payment-webhook';

const secret = 'whsec_0123456789abcdef';
const body = '{"authorizationId":"auth-o-1","approved":true}';
const now = 1_780_000_000_000;
const at = now / 1000;

test('the signature verifies over the exact body and timestamp with any configured secret', () => {
  const signature = signPaymentWebhook(secret, body, at);
  assert.match(signature, /^v1=[0-9a-f]{64}$/);
  const verify = (over: Partial<Parameters<typeof verifyPaymentWebhook>[0]>) =>
    verifyPaymentWebhook({ secrets: [secret], body, signature, timestamp: String(at), now, ...over });
  assert.deepEqual(verify({}), { ok: true });
  assert.deepEqual(verify({ secrets: ['whsec_the-new-one-rotated-in', secret] }), { ok: true });
  assert.deepEqual(
    verify({ signature: `v1=${'0'.repeat(64)}, ${signature}` }),
    { ok: true },
    'the provider may send two while rotating',
  );

  assert.equal(verify({ body: body.replace('true', 'false') }).ok, false);
  assert.equal(verify({ secrets: ['whsec_someone-elses-secret'] }).ok, false);
  assert.deepEqual(verify({ timestamp: String(at + 1) }), {
    ok: false,
    error: 'signature_invalid',
    reason: 'the signature does not match the body and timestamp',
  });
  assert.equal(verify({ signature: 'v1=zz' }).ok, false);
});

test('a missing signature, or a timestamp outside the tolerance, is refused with its reason', () => {
  const verdict = (signature: string | undefined, timestamp: string | undefined, toleranceSeconds = 300) =>
    verifyPaymentWebhook({ secrets: [secret], body, signature, timestamp, toleranceSeconds, now });
  const sign = (t: number) => signPaymentWebhook(secret, body, t);
  const missing = verdict(undefined, String(at));
  assert.equal(missing.ok === false && missing.error, 'signature_missing');
  assert.equal(verdict(sign(at), undefined).ok, false);
  for (const t of [at - 301, at + 301]) {
    const v = verdict(sign(t), String(t));
    assert.equal(v.ok === false && v.error, 'signature_stale', `timestamp ${t - at} s off`);
  }
  assert.deepEqual(verdict(sign(at - 300), String(at - 300)), { ok: true });
  const garbage = verdict(sign(at), 'yesterday');
  assert.equal(garbage.ok === false && garbage.error, 'signature_stale');
});
