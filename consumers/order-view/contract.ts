import type { ConsumerContract } from '../../events/consumer-contracts';

/**
 * The order view reads every step of the saga, but only what customer care is shown: ids,
 * amounts, reasons and tracking; never the customer's name, email or address.
 */
export const orderViewContract = {
  consumer: 'order-view',
  reads: [
    {
      type: 'OrderSubmitted',
      version: 1,
      fields: { customerId: 'string', 'total.amount': 'integer', 'total.currency': 'string', 'lines[].quantity': 'integer' },
    },
    { type: 'OrderConfirmed', version: 1, fields: {} },
    { type: 'OrderCancelled', version: 1, fields: { outcome: 'string', reason: 'string' } },
    { type: 'OrderCompleted', version: 1, fields: { trackingNumber: 'string' } },
    { type: 'OrderEscalated', version: 1, fields: { waitingFor: 'string' } },
    { type: 'PaymentAuthorizationPending', version: 1, fields: {} },
    { type: 'PaymentAuthorized', version: 1, fields: { 'amount.amount': 'integer' } },
    { type: 'PaymentDeclined', version: 1, fields: { reason: 'string' } },
    { type: 'PaymentVoided', version: 1, fields: { 'amount.amount': 'integer' } },
    { type: 'PaymentCaptured', version: 1, fields: { 'amount.amount': 'integer' } },
    { type: 'PaymentRefunded', version: 1, fields: { 'amount.amount': 'integer' } },
    { type: 'StockReserved', version: 1, fields: {} },
    { type: 'StockUnavailable', version: 1, fields: { 'shortages[].sku': 'string' } },
    { type: 'StockReleased', version: 1, fields: {} },
    { type: 'ShipmentAllocated', version: 1, fields: { carrier: 'string' } },
    { type: 'ShipmentUndeliverable', version: 1, fields: { reason: 'string' } },
    { type: 'ShipmentCancelled', version: 1, fields: {} },
    { type: 'ShipmentDispatched', version: 2, fields: { trackingNumber: 'string', dispatchedAt: 'string' } },
  ],
} as const satisfies ConsumerContract;
