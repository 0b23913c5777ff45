import { catalog, producedVersion, type EventData, type EventType } from '../events/catalog';
import type { Envelope } from '../events/envelope';
import { appendEvent } from '../outbox/append';
import type { Sql } from '../platform/database';

/** Who caused an event: the order, its saga (correlation) and the operation's idempotency key. */
export interface Cause {
  orderId: string;
  /** The saga's workflow id, `order-<orderId>`. */
  correlationId: string;
  /** The operation's idempotency key (workflow id + step); with the type it fixes the event id. */
  causationId: string;
}

/**
 * Appends a catalog event inside the operation's transaction, after checking its data against the
 * catalog schema of the version producers write: a malformed event fails the operation (and rolls
 * back its effect) instead of reaching a consumer.
 */
export async function emit<T extends EventType>(tx: Sql, type: T, cause: Cause, data: EventData<T>): Promise<Envelope> {
  const def = catalog[type];
  const version = producedVersion[type];
  const schema = (def.versions as Record<number, { parse(d: unknown): unknown }>)[version];
  if (!schema) throw new Error(`${type} has no schema for version ${version}`);
  return appendEvent(tx, {
    context: def.context,
    type,
    schemaVersion: version,
    orderId: cause.orderId,
    correlationId: cause.correlationId,
    causationId: cause.causationId,
    data: schema.parse(data),
  });
}
