import type { z } from 'zod';
import type { EventCatalog } from '../definition';
import { fraudEvents } from './fraud';
import { inventoryEvents } from './inventory';
import { ordersEvents } from './orders';
import { paymentsEvents } from './payments';
import { reconciliationEvents } from './reconciliation';
import { shippingEvents } from './shipping';

/**
 * The domain catalog: every event type Trapeze publishes, its bounded context (so its topic), and
 * one zod schema per version of its `data`. It is the single source of truth for producers (the
 * participants validate against it before appending) and for the contract tooling.
 */
export const catalog = {
  ...ordersEvents,
  ...paymentsEvents,
  ...inventoryEvents,
  ...shippingEvents,
  ...fraudEvents,
  ...reconciliationEvents,
} as const satisfies EventCatalog;

export type EventType = keyof typeof catalog;

/**
 * The version producers write. Consumers read every version through upcasters; readers learn a
 * new version first (their contracts record the release), and a later release switches this map
 * and its producer in the same commit, recording the release in `productionSwitches`.
 */
export const producedVersion = {
  OrderSubmitted: 1,
  OrderConfirmed: 1,
  OrderCancelled: 1,
  OrderCompleted: 1,
  OrderEscalated: 1,
  PaymentAuthorizationPending: 1,
  PaymentAuthorized: 1,
  PaymentDeclined: 1,
  PaymentVoided: 1,
  PaymentCaptured: 1,
  PaymentRefunded: 1,
  StockReserved: 1,
  StockUnavailable: 1,
  StockReleased: 1,
  ShipmentAllocated: 1,
  ShipmentUndeliverable: 1,
  ShipmentCancelled: 1,
  ShipmentDispatched: 1,
  FraudScreened: 1,
  ReconciliationFinding: 1,
} as const satisfies Record<EventType, number>;

/**
 * The release (`major.minor`) in which producers began writing each version after an event's
 * first. `npm run events:check` fails unless it is later than the release in which every declared
 * consumer learned that version (events/production.ts). ShipmentDispatched v2 is known to every
 * reader since 1.0 and not produced yet: switching it is `ShipmentDispatched: { 2: '<release>' }`
 * with `producedVersion.ShipmentDispatched = 2`.
 */
export const productionSwitches: { readonly [T in EventType]?: Readonly<Record<number, string>> } = {};

type Versions<T extends EventType> = (typeof catalog)[T]['versions'];

/** The `data` a producer writes for an event type (its produced version). */
export type EventData<T extends EventType> = z.infer<Versions<T>[(typeof producedVersion)[T] & keyof Versions<T>]>;

export const isEventType = (type: string): type is EventType => Object.hasOwn(catalog, type);
