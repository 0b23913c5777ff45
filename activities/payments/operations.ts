import type { Money } from '../../domain/money';
import type { Database, Tx } from '../../platform/database';
import { Refusal } from '../../domain/saga';
import { emit } from '../emit';
import { causeOf, noFaults, refusal, type Faults, type StepRef } from '../step';
import { alreadyUndone, bury, tombstoneOf, transact } from '../tcc';
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
  moveAuthorization,
  voidedBy,
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
  amount: Money;
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

const TOMBSTONES = 'payment_tombstones';

/**
 * No suspension for the steps that build on an authorization: a capture or a payment result that
 * finds the authorization voided (or never made and buried) refuses and changes nothing.
 */
async function refuseIfVoided(tx: Tx, step: string, req: StepRef, auth: Authorization | undefined, authorizeKey?: string) {
  if (auth?.status === 'voided') {
    const by = (await voidedBy(tx, auth.authorizationId)) ?? 'voidAuthorization';
    throw alreadyUndone(step, req.key, by, `authorization ${auth.authorizationId}`);
  }
  const buried = !auth && authorizeKey ? await tombstoneOf(tx, TOMBSTONES, authorizeKey) : undefined;
  if (buried) throw alreadyUndone(step, req.key, buried.undoKey, `the authorization ${authorizeKey}`);
}

export function createPaymentActivities(db: Database, faults: Faults = noFaults) {
  return {
    async authorizePayment(req: AuthorizeRequest): Promise<Authorization> {
      const auth = await transact(db, async (tx) => {
        await tx.lock(req.key);
        const existing = await authorizationByKey(tx, req.key);
        if (existing) return existing;
        const buried = await tombstoneOf(tx, TOMBSTONES, req.key);
        if (buried) throw alreadyUndone('authorizePayment', req.key, buried.undoKey, 'the authorization');
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

    /**
     * Records the provider's asynchronous answer (from the webhook) for a pending authorization.
     * Races the void: both move the authorization out of `pending`, and only one of them can.
     */
    async recordPaymentResult(req: PaymentResultRequest): Promise<PaymentResult> {
      const result = await transact(db, async (tx) => {
        await tx.lock(req.key);
        const existing = await findResult(tx, req.key);
        if (existing) return existing;
        const auth = await authorizationById(tx, req.authorizationId);
        if (!auth) throw new Error(`no authorization ${req.authorizationId}`);
        await refuseIfVoided(tx, 'recordPaymentResult', req, auth);
        if (auth.status !== 'pending') {
          // Answered already (or captured): the late answer no longer changes anything.
          return insertResult(tx, req.key, {
            authorizationId: auth.authorizationId,
            status: 'declined',
            reason: `authorization already ${auth.status}`,
          });
        }
        const cause = causeOf(req);
        if (req.approved) {
          await moveAuthorization(tx, auth.authorizationId, 'pending', 'authorized');
          await emit(tx, 'PaymentAuthorized', cause, {
            orderId: req.orderId,
            authorizationId: auth.authorizationId,
            amount: auth.amount,
          });
          return insertResult(tx, req.key, { authorizationId: auth.authorizationId, status: 'authorized', reason: null });
        }
        const reason = req.reason ?? 'declined by the provider';
        await moveAuthorization(tx, auth.authorizationId, 'pending', 'declined', reason);
        await emit(tx, 'PaymentDeclined', cause, { orderId: req.orderId, amount: auth.amount, reason });
        return insertResult(tx, req.key, { authorizationId: auth.authorizationId, status: 'declined', reason });
      });
      await faults.afterCommit('recordPaymentResult', req.key);
      if (result.status === 'declined') throw declined(result);
      return result;
    },

    /**
     * The undo of authorizePayment: releases a held (or pending) authorization uncharged. With no
     * authorization it buries the authorization's key, so a late authorizePayment refuses. A
     * captured authorization is left to refundPayment.
     */
    async voidAuthorization(req: VoidRequest): Promise<Void> {
      const result = await transact(db, async (tx) => {
        await tx.lock(req.authorizeKey);
        const existing = await findVoid(tx, req.key);
        if (existing) return existing;
        const auth = await authorizationByKey(tx, req.authorizeKey);
        if (!auth) await bury(tx, TOMBSTONES, { forwardKey: req.authorizeKey, undoKey: req.key, orderId: req.orderId });
        if (auth?.status !== 'authorized' && auth?.status !== 'pending') {
          return insertVoid(tx, req.key, req.orderId, { authorizationId: null, amount: null });
        }
        await moveAuthorization(tx, auth.authorizationId, auth.status, 'voided');
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

    /** Charges a held authorization; refuses after its refund buried it or after the authorization was voided. */
    async capturePayment(req: CaptureRequest): Promise<Capture> {
      const result = await transact(db, async (tx) => {
        await tx.lock(req.key);
        const existing = await captureByKey(tx, req.key);
        if (existing) return existing;
        const buried = await tombstoneOf(tx, TOMBSTONES, req.key);
        if (buried) throw alreadyUndone('capturePayment', req.key, buried.undoKey, 'the capture');
        const auth = await authorizationByKey(tx, req.authorizeKey);
        await refuseIfVoided(tx, 'capturePayment', req, auth, req.authorizeKey);
        if (auth?.status !== 'authorized') throw new Error(`cannot capture: authorization is ${auth?.status ?? 'missing'}`);
        await moveAuthorization(tx, auth.authorizationId, 'authorized', 'captured');
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

    /** The undo of capturePayment. With no capture it buries the capture's key, so a late capture refuses. */
    async refundPayment(req: RefundRequest): Promise<Refund> {
      const result = await transact(db, async (tx) => {
        await tx.lock(req.captureKey);
        const existing = await findRefund(tx, req.key);
        if (existing) return existing;
        const capture = await captureByKey(tx, req.captureKey);
        if (!capture) {
          await bury(tx, TOMBSTONES, { forwardKey: req.captureKey, undoKey: req.key, orderId: req.orderId });
          return insertRefund(tx, req.key, req.orderId, { refundId: null, captureId: null, amount: null });
        }
        const refund = { refundId: `ref-${req.orderId}`, captureId: capture.captureId, amount: capture.amount };
        await moveAuthorization(tx, capture.authorizationId, 'captured', 'refunded');
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
