import { envelope, topicFor, type NewEvent, type Envelope } from '../events/envelope';
import type { Sql } from '../platform/database';

/**
 * Appends a domain event inside the caller's transaction: it leaves with the state change or not
 * at all. A second append of the same event id (a retried operation) is a no-op.
 */
export async function appendEvent(tx: Sql, event: NewEvent): Promise<Envelope> {
  const env = envelope(event);
  await tx.run(
    `INSERT INTO outbox (id, topic, msg_key, type, envelope, created_at)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    [env.id, topicFor(event.context), event.orderId, env.type, JSON.stringify(env), Date.now()],
  );
  return env;
}
