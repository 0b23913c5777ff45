import type { Database } from '../../platform/database';
import { Refusal } from '../../domain/saga';
import { emit } from '../emit';
import { causeOf, noFaults, refusal, type Faults, type StepRef } from '../step';
import {
  authorizationById,
  authorizationByKey,
  captureByKey,
  findRefund,
  findResult,
  findVoid,
  insertAuthorization,
  insertCapture,
  insertRefund,
  insertResult,
  insertVoid,
  setAuthorizationStatus,
  type Authorization,
  type Capture,
  type PaymentResult,
  type Refund,
  type Void,
} from './ledger';

/**
 * The payments participant, a built-in stand-in for a payment provider. Test payment method
 * tokens: `tok_decline` is declined, `tok_async` answers later through the payment webhook
 * (the saga's `paymentResult` signal); any other token is authorized at once.
 */
export const TEST_TOKENS = { decline: 'tok_decline', async: 'tok_async' } as const;

export interface AuthorizeRequest extends StepRef {
  amount: { amount: number; currency: string };
  methodToken: string;
}
export interface PaymentResultRequest extends StepRef {
  authorizationId: string;
  approved: boolean;
  reason?: string;
}
export interface VoidRequest extends StepRef {
  /** The idempotency key of the authorization to void. */
  authorizeKey: string;
}
export interface CaptureRequest extends StepRef {
  authorizeKey: string;
}
export interface RefundRequest extends StepRef {
  /** The idempotency key of the capture to pay back. */
  captureKey: string;
}

const declined = (a: { authorizationId: string; reason: string | null }) =>
  refusal(Refusal.PaymentDeclined, `payment declined: ${a.reason ?? 'no reason given'}`, a);

export function createPaymentActivities(db: Database, faults: Faults = noFaults) {
  return {
    async authorizePayment(req: AuthorizeRequest): Promise<Authorization> {
      const auth = await db.transaction(async (tx) => {
        const existing = await authorizationByKey(tx, req.key);
        if (existing) return existing;
        const base = { authorizationId: `auth-${req.orderId}`, orderId: req.orderId, amount: req.amount };
        const cause = causeOf(req);
        const data = { orderId: req.orderId, authorizationId: base.authorizationId, amount: req.amount };
        if (req.methodToken === TEST_TOKENS.decline) {
          const a = await insertAuthorization(
            tx,
            req.key,
            { ...base, status: 'declined', reason: 'card declined' },
            req.methodToken,
          );
          await emit(tx, 'PaymentDeclined', cause, { orderId: req.orderId, amount: req.amount, reason: 'card declined' });
          return a;
        }
        if (req.methodToken === TEST_TOKENS.async) {
          const a = await insertAuthorization(tx, req.key, { ...base, status: 'pending', reason: null }, req.methodToken);
          await emit(tx, 'PaymentAuthorizationPending', cause, data);
          return a;
        }
        const a = await insertAuthorization(tx, req.key, { ...base, status: 'authorized', reason: null }, req.methodToken);
        await emit(tx, 'PaymentAuthorized', cause, data);
        return a;
      });
      await faults.afterCommit('authorizePayment', req.key);
      // A retry after a decline gets the decline again (the first answer), never a second try.
      if (auth.status === 'declined') throw declined(auth);
      return auth;
    },

    /** Records the provider's asynchronous answer (from the webhook) for a pending authorization. */
    async recordPaymentResult(req: PaymentResultRequest): Promise<PaymentResult> {
      const result = await db.transaction(async (tx) => {
        const existing = await findResult(tx, req.key);
        if (existing) return existing;
        const auth = await authorizationById(tx, req.authorizationId);
        if (!auth) throw new Error(`no authorization ${req.authorizationId}`);
        if (auth.status !== 'pending') {
          // Voided while the webhook was under way: the answer no longer changes anything.
          return insertResult(tx, req.key, {
            authorizationId: auth.authorizationId,
            status: 'declined',
            reason: `authorization already ${auth.status}`,
          });
        }
        const cause = causeOf(req);
        if (req.approved) {
          await setAuthorizationStatus(tx, auth.authorizationId, 'authorized');
          await emit(tx, 'PaymentAuthorized', cause, {
            orderId: req.orderId,
            authorizationId: auth.authorizationId,
            amount: auth.amount,
          });
          return insertResult(tx, req.key, { authorizationId: auth.authorizationId, status: 'authorized', reason: null });
        }
        const reason = req.reason ?? 'declined by the provider';
        await setAuthorizationStatus(tx, auth.authorizationId, 'declined', reason);
        await emit(tx, 'PaymentDeclined', cause, { orderId: req.orderId, amount: auth.amount, reason });
        return insertResult(tx, req.key, { authorizationId: auth.authorizationId, status: 'declined', reason });
      });
      await faults.afterCommit('recordPaymentResult', req.key);
      if (result.status === 'declined') throw declined(result);
      return result;
    },

    /** The undo of authorizePayment. Safe when nothing was authorized (or it was declined): a no-op. */
    async voidAuthorization(req: VoidRequest): Promise<Void> {
      const result = await db.transaction(async (tx) => {
        const existing = await findVoid(tx, req.key);
        if (existing) return existing;
        const auth = await authorizationByKey(tx, req.authorizeKey);
        if (!auth || (auth.status !== 'authorized' && auth.status !== 'pending')) {
          return insertVoid(tx, req.key, req.orderId, { authorizationId: null, amount: null });
        }
        await setAuthorizationStatus(tx, auth.authorizationId, 'voided');
        await emit(tx, 'PaymentVoided', causeOf(req), {
          orderId: req.orderId,
          authorizationId: auth.authorizationId,
          amount: auth.amount,
        });
        return insertVoid(tx, req.key, req.orderId, { authorizationId: auth.authorizationId, amount: auth.amount.amount });
      });
      await faults.afterCommit('voidAuthorization', req.key);
      return result;
    },

    async capturePayment(req: CaptureRequest): Promise<Capture> {
      const result = await db.transaction(async (tx) => {
        const existing = await captureByKey(tx, req.key);
        if (existing) return existing;
        const auth = await authorizationByKey(tx, req.authorizeKey);
        if (auth?.status !== 'authorized') throw new Error(`cannot capture: authorization is ${auth?.status ?? 'missing'}`);
        await setAuthorizationStatus(tx, auth.authorizationId, 'captured');
        const capture = await insertCapture(tx, req.key, req.orderId, {
          captureId: `cap-${req.orderId}`,
          authorizationId: auth.authorizationId,
          amount: auth.amount,
        });
        await emit(tx, 'PaymentCaptured', causeOf(req), { orderId: req.orderId, ...capture });
        return capture;
      });
      await faults.afterCommit('capturePayment', req.key);
      return result;
    },

    /** The undo of capturePayment. Safe when nothing was captured: a no-op. */
    async refundPayment(req: RefundRequest): Promise<Refund> {
      const result = await db.transaction(async (tx) => {
        const existing = await findRefund(tx, req.key);
        if (existing) return existing;
        const capture = await captureByKey(tx, req.captureKey);
        if (!capture) return insertRefund(tx, req.key, req.orderId, { refundId: null, captureId: null, amount: null });
        const refund = { refundId: `ref-${req.orderId}`, captureId: capture.captureId, amount: capture.amount };
        await setAuthorizationStatus(tx, capture.authorizationId, 'refunded');
        await emit(tx, 'PaymentRefunded', causeOf(req), {
          orderId: req.orderId,
          captureId: capture.captureId,
          refundId: refund.refundId,
          amount: capture.amount,
        });
        return insertRefund(tx, req.key, req.orderId, refund);
      });
      await faults.afterCommit('refundPayment', req.key);
      return result;
    },
  };
}
