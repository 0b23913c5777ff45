import { z } from 'zod';
import { Money } from './values';

/** The payments context. No card data: the payment method token never leaves the ledger. */
export const PaymentAuthorizationPendingV1 = z.object({ orderId: z.string(), authorizationId: z.string(), amount: Money });
export const PaymentAuthorizedV1 = z.object({ orderId: z.string(), authorizationId: z.string(), amount: Money });
export const PaymentDeclinedV1 = z.object({ orderId: z.string(), amount: Money, reason: z.string() });
export const PaymentVoidedV1 = z.object({ orderId: z.string(), authorizationId: z.string(), amount: Money });
export const PaymentCapturedV1 = z.object({
  orderId: z.string(),
  authorizationId: z.string(),
  captureId: z.string(),
  amount: Money,
});
export const PaymentRefundedV1 = z.object({ orderId: z.string(), captureId: z.string(), refundId: z.string(), amount: Money });

export const paymentsEvents = {
  PaymentAuthorizationPending: {
    context: 'payments',
    description: 'The payment provider will answer the authorization later (webhook).',
    versions: { 1: PaymentAuthorizationPendingV1 },
  },
  PaymentAuthorized: {
    context: 'payments',
    description: 'The amount is held on the customer’s payment method.',
    versions: { 1: PaymentAuthorizedV1 },
  },
  PaymentDeclined: {
    context: 'payments',
    description: 'The payment provider refused the authorization.',
    versions: { 1: PaymentDeclinedV1 },
  },
  PaymentVoided: {
    context: 'payments',
    description: 'A held amount was released without being charged.',
    versions: { 1: PaymentVoidedV1 },
  },
  PaymentCaptured: { context: 'payments', description: 'The held amount was charged.', versions: { 1: PaymentCapturedV1 } },
  PaymentRefunded: { context: 'payments', description: 'A charged amount was paid back.', versions: { 1: PaymentRefundedV1 } },
} as const;
