import type { Database } from '../platform/database';
import { outboxMigrations, type Migration } from '../platform/migrations';
import { createFraudActivities } from './fraud/operations';
import { fraudMigrations } from './fraud/schema';
import { createInventoryActivities } from './inventory/operations';
import { inventoryMigrations } from './inventory/schema';
import { createOrderActivities } from './orders/operations';
import { ordersMigrations } from './orders/schema';
import { createPaymentActivities } from './payments/operations';
import { paymentsMigrations } from './payments/schema';
import { createShippingActivities } from './shipping/operations';
import { shippingMigrations } from './shipping/schema';
import { noFaults, type Faults } from './step';

/**
 * The saga's participants, one per bounded context, each built on the shared database so that
 * its state change and its outbox event commit together. Swap one for an adapter to a real
 * service behind the same functions.
 */
export function createParticipants(db: Database, { faults = noFaults }: { faults?: Faults } = {}) {
  return {
    orders: createOrderActivities(db, faults),
    payments: createPaymentActivities(db, faults),
    inventory: createInventoryActivities(db, faults),
    shipping: createShippingActivities(db, faults),
    fraud: createFraudActivities(db, faults),
  };
}
export type Participants = ReturnType<typeof createParticipants>;

/** The activity functions as the worker registers them (names are unique across contexts). */
export function activitiesOf(participants: Participants) {
  return {
    ...participants.orders,
    ...participants.payments,
    ...participants.inventory,
    ...participants.shipping,
    ...participants.fraud,
  };
}

/** The outbox and every participant's tables, in the order they must be applied. */
export const participantMigrations: Migration[] = [
  ...outboxMigrations,
  ...ordersMigrations,
  ...paymentsMigrations,
  ...inventoryMigrations,
  ...shippingMigrations,
  ...fraudMigrations,
];

export type { Faults } from './step';
