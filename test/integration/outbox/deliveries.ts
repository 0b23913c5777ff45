import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import pino from 'pino';
import type { NewEvent } from '../../../events/envelope';
import { appendEvent } from '../../../outbox/append';
import type { Database } from '../../../platform/database';

/** What the relay tests read back from Kafka: each key's event ids in the order they arrived. */
export interface Deliveries {
  byKey: Map<string, string[]>;
  count(): number;
  /** The ce_* headers and value of the first message received, to check the binding. */
  first?: { key: string; headers: Record<string, string>; value: string };
  stop(): Promise<void>;
}

export async function collectDeliveries(brokers: string[], topics: string[]): Promise<Deliveries> {
  const kafka = new Kafka({ clientId: `relay-test-${randomUUID()}`, brokers, logLevel: logLevel.NOTHING });
  const consumer: Consumer = kafka.consumer({ groupId: `relay-test-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const deliveries: Deliveries = {
    byKey: new Map(),
    count: () => [...deliveries.byKey.values()].reduce((n, ids) => n + ids.length, 0),
    stop: () => consumer.disconnect(),
  };
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const key = message.key?.toString() ?? '';
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      deliveries.first ??= { key, headers, value: message.value?.toString() ?? '' };
      const ids = deliveries.byKey.get(key) ?? [];
      ids.push(headers['ce_id'] ?? '');
      deliveries.byKey.set(key, ids);
    },
  });
  return deliveries;
}

/** A key's ids with repeats dropped: at-least-once may repeat an event, never reorder the first arrivals. */
export const firstArrivals = (ids: string[]) => [...new Set(ids)];

/** Every appended event arrived, and each key's first arrivals are in append order. */
export function assertDeliveredInOrder(deliveries: Deliveries, expected: Map<string, string[]>): void {
  let lost = 0;
  for (const [key, ids] of expected) {
    const got = firstArrivals(deliveries.byKey.get(key) ?? []);
    lost += ids.filter((id) => !got.includes(id)).length;
    assert.deepEqual(got, ids, `events of key ${key} out of order or missing`);
  }
  assert.equal(lost, 0);
}

/**
 * Appends one event per type for each order, one transaction per event (as saga steps would):
 * step by step across all orders, or (`orderByOrder`) all of one order's events back to back,
 * which puts a key's events next to each other in the outbox, where relays split them.
 */
export async function appendOrders(
  db: Database,
  orders: string[],
  types: string[],
  expected: Map<string, string[]>,
  { context = 'orders', orderByOrder = false }: { context?: NewEvent['context']; orderByOrder?: boolean } = {},
): Promise<void> {
  const steps = orderByOrder
    ? orders.flatMap((orderId) => types.map((type) => ({ orderId, type })))
    : types.flatMap((type) => orders.map((orderId) => ({ orderId, type })));
  {
    for (const { orderId, type } of steps) {
      const env = await db.transaction((tx) =>
        appendEvent(tx, {
          context,
          type,
          schemaVersion: 1,
          orderId,
          causationId: `order-${orderId}/${type}`,
          correlationId: `order-${orderId}`,
          data: { orderId, step: type },
        }),
      );
      expected.set(orderId, [...(expected.get(orderId) ?? []), env.id]);
    }
  }
}

export const quietLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
