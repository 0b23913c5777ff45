import type { Money } from '../../domain/money';
import type { Database } from '../../platform/database';
import { Refusal } from '../../domain/saga';
import { emit } from '../emit';
import { causeOf, noFaults, refusal, type Faults, type StepRef } from '../step';
import { insertScreening, screeningByKey, type Screening } from './ledger';

/**
 * The fraud participant (release 1.1), a built-in stand-in for a screening service: a few rules
 * score the order before any money is held. Test payment token `tok_fraud` is always rejected.
 * Adapters to a real service keep the port: same request, same idempotency, same event.
 */
export const FRAUD_TEST_TOKEN = 'tok_fraud';
/** Orders at or above this score are rejected. */
export const REJECT_AT = 80;
/** Totals above this (minor units) add risk: big baskets are what stolen cards buy. */
const HIGH_VALUE = 500_000;

export interface ScreenRequest extends StepRef {
  customerId: string;
  total: Money;
  methodToken: string;
  shippingCountry: string;
}

export function assess(req: Pick<ScreenRequest, 'total' | 'methodToken'>): Pick<Screening, 'score' | 'signals'> {
  const signals: string[] = [];
  let score = 5;
  if (req.methodToken === FRAUD_TEST_TOKEN) {
    signals.push('blocked-payment-method');
    score = 100;
  }
  if (req.total.amount > HIGH_VALUE) {
    signals.push('high-value');
    score = Math.min(100, score + 40);
  }
  return { score, signals };
}

export function createFraudActivities(db: Database, faults: Faults = noFaults) {
  return {
    /** Screens the order once per saga; a retry gets the first verdict. A rejection is a business refusal. */
    async screenOrder(req: ScreenRequest): Promise<Screening> {
      const screening = await db.transaction(async (tx) => {
        const existing = await screeningByKey(tx, req.key);
        if (existing) return existing;
        const { score, signals } = assess(req);
        const s = await insertScreening(tx, req.key, {
          orderId: req.orderId,
          customerId: req.customerId,
          verdict: score >= REJECT_AT ? 'rejected' : 'clear',
          score,
          signals,
        });
        await emit(tx, 'FraudScreened', causeOf(req), {
          orderId: req.orderId,
          customerId: req.customerId,
          total: req.total,
          verdict: s.verdict,
          score,
          signals,
        });
        return s;
      });
      await faults.afterCommit('screenOrder', req.key);
      if (screening.verdict === 'rejected') {
        throw refusal(Refusal.FraudSuspected, `order rejected by fraud screening (${screening.signals.join(', ')})`, screening);
      }
      return screening;
    },
  };
}
