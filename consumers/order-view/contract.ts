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
      learned: { 1: '1.0' },
    },
    { type: 'OrderConfirmed', version: 1, fields: {}, learned: { 1: '1.0' } },
    { type: 'OrderCancelled', version: 1, fields: { outcome: 'string', reason: 'string' }, learned: { 1: '1.0' } },
    { type: 'OrderCompleted', version: 1, fields: { trackingNumber: 'string' }, learned: { 1: '1.0' } },
    { type: 'OrderEscalated', version: 1, fields: { waitingFor: 'string' }, learned: { 1: '1.0' } },
    { type: 'PaymentAuthorizationPending', version: 1, fields: {}, learned: { 1: '1.0' } },
    { type: 'PaymentAuthorized', version: 1, fields: { 'amount.amount': 'integer' }, learned: { 1: '1.0' } },
    { type: 'PaymentDeclined', version: 1, fields: { reason: 'string' }, learned: { 1: '1.0' } },
    { type: 'PaymentVoided', version: 1, fields: { 'amount.amount': 'integer' }, learned: { 1: '1.0' } },
    { type: 'PaymentCaptured', version: 1, fields: { 'amount.amount': 'integer' }, learned: { 1: '1.0' } },
    { type: 'PaymentRefunded', version: 1, fields: { 'amount.amount': 'integer' }, learned: { 1: '1.0' } },
    { type: 'StockReserved', version: 1, fields: {}, learned: { 1: '1.0' } },
    { type: 'StockUnavailable', version: 1, fields: { 'shortages[].sku': 'string' }, learned: { 1: '1.0' } },
    { type: 'StockReleased', version: 1, fields: {}, learned: { 1: '1.0' } },
    { type: 'ShipmentAllocated', version: 1, fields: { carrier: 'string' }, learned: { 1: '1.0' } },
    { type: 'ShipmentUndeliverable', version: 1, fields: { reason: 'string' }, learned: { 1: '1.0' } },
    { type: 'ShipmentCancelled', version: 1, fields: {}, learned: { 1: '1.0' } },
    {
      type: 'ShipmentDispatched',
      version: 2,
      fields: { trackingNumber: 'string', dispatchedAt: 'string' },
      learned: { 1: '1.0', 2: '1.0' },
    },
  ],
} as const satisfies ConsumerContract;
