import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Participants } from '../activities';
import { Refusal } from '../domain/saga';

// Each participant has its own timeouts and retry policy. Business refusals are non-retryable;
// technical failures retry with backoff, and only an exhausted policy makes the saga compensate.
const backoff = { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' } as const;
// A forward step waits out a participant outage of about 26 s (10 attempts, 0.2 s doubling to 5 s
// apart): a database restart or the first half of a failover must not cancel a customer's order.
// At 5 attempts (~3 s) a PostgreSQL restart under load failed a quarter of the sagas in flight.
const forward = { ...backoff, maximumAttempts: 10 } as const;

export const ordersOptions: ActivityOptions = { startToCloseTimeout: '5s', retry: forward };
export const paymentsOptions: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { ...forward, nonRetryableErrorTypes: [Refusal.PaymentDeclined] },
};
export const inventoryOptions: ActivityOptions = {
  startToCloseTimeout: '5s',
  retry: { ...forward, nonRetryableErrorTypes: [Refusal.StockUnavailable] },
};
export const fraudOptions: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { ...forward, nonRetryableErrorTypes: [Refusal.FraudSuspected] },
};
export const shippingOptions: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { ...forward, nonRetryableErrorTypes: [Refusal.AddressUndeliverable] },
};
// Past dispatch there is no undo: the parcel is gone, so capture and completion retry until they succeed.
export const afterDispatchOptions: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { ...backoff, maximumInterval: '1m' },
};
// An alert retries until it is sent (never failing the wait it belongs to), at most every 10 minutes.
export const escalationOptions: ActivityOptions = { startToCloseTimeout: '5s', retry: { ...backoff, maximumInterval: '10m' } };
// One round of an undo; the undo list repeats rounds until it succeeds.
export const undoOptions: ActivityOptions = { startToCloseTimeout: '10s', retry: { ...backoff, maximumAttempts: 3 } };

export const orders = proxyActivities<Participants['orders']>(ordersOptions);
export const payments = proxyActivities<Participants['payments']>(paymentsOptions);
export const inventory = proxyActivities<Participants['inventory']>(inventoryOptions);
export const shipping = proxyActivities<Participants['shipping']>(shippingOptions);
export const fraud = proxyActivities<Participants['fraud']>(fraudOptions);

/** Calls an activity with the given options and a one-line summary for the UI. */
export function call<A, R>(
  fn: { executeWithOptions(options: ActivityOptions, args: [A]): Promise<R> },
  options: ActivityOptions,
  summary: string,
  arg: A,
): Promise<R> {
  return fn.executeWithOptions({ ...options, summary }, [arg]);
}
