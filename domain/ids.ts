/** One order = one saga execution: `order-<orderId>`. */
export const workflowIdFor = (orderId: string): string => `order-${orderId}`;

/** The inverse of `workflowIdFor`; undefined for an id that is not an order saga's. */
export function orderIdFromWorkflowId(workflowId: string): string | undefined {
  return workflowId.startsWith('order-') ? workflowId.slice('order-'.length) : undefined;
}

/** `order-<id>/<step>`: the business key every participant deduplicates on (never the attempt). */
export const idempotencyKey = (workflowId: string, step: string): string => `${workflowId}/${step}`;
