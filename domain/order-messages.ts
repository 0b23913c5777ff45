import { z } from 'zod';

/**
 * What callers send a running order saga besides the order itself, validated at the edge (the
 * HTTP API) with the same schemas its OpenAPI document shows. The saga's own message types
 * (workflows/definitions.ts) accept exactly these shapes.
 */

/** An operator's (or the customer's, through an operator) cancellation. */
export const CancelRequest = z.object({ reason: z.string().trim().min(1).max(500) });

/** The warehouse says the parcel left. */
export const DispatchConfirmation = z.object({
  trackingNumber: z.string().trim().min(1).max(100),
  carrier: z.string().trim().min(1).max(100).optional(),
});

/** The payment provider's asynchronous answer to an authorization (its signed webhook). */
export const PaymentResult = z.object({
  authorizationId: z.string().min(1).max(200),
  approved: z.boolean(),
  reason: z.string().max(500).optional(),
});
