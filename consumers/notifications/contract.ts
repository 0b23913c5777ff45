import type { ConsumerContract } from '../../events/consumer-contracts';

/** Notifications read one event: the order is confirmed, and to whom to say so. */
export const notificationsContract = {
  consumer: 'notifications',
  reads: [
    {
      type: 'OrderConfirmed',
      version: 1,
      fields: {
        orderId: 'string',
        customerId: 'string',
        'customer.name': 'string',
        'customer.email': 'string',
        'total.amount': 'integer',
        'total.currency': 'string',
      },
      learned: { 1: '1.0' },
    },
  ],
} as const satisfies ConsumerContract;
