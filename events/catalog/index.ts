import type { z } from 'zod';
import type { EventCatalog } from '../definition';
import { fraudEvents } from './fraud';
import { inventoryEvents } from './inventory';
import { ordersEvents } from './orders';
import { paymentsEvents } from './payments';
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
} as const satisfies EventCatalog;

export type EventType = keyof typeof catalog;

/**
 * The version producers write. Consumers read every version through upcasters; a new version of
 * an event changes this map and its producer in the same commit.
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
} as const satisfies Record<EventType, number>;

type Versions<T extends EventType> = (typeof catalog)[T]['versions'];

/** The `data` a producer writes for an event type (its produced version). */
export type EventData<T extends EventType> = z.infer<Versions<T>[(typeof producedVersion)[T] & keyof Versions<T>]>;

export const isEventType = (type: string): type is EventType => Object.hasOwn(catalog, type);
