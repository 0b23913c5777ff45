import { envelope, eventId, topicFor, type NewEvent, type Envelope } from '../events/envelope';
import { preparedStatement, type Sql } from '../platform/database';
import { derivedTraceparent, traceparentOf } from '../platform/trace-context';

// Prepared once per PostgreSQL connection: every saga step appends, and the lag benchmark's writers
// were capped by the database's CPU for parsing and planning this one statement.
const APPEND = preparedStatement(
  `INSERT INTO outbox (id, topic, msg_key, type, envelope, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
);

/**
 * Appends a domain event inside the caller's transaction: it leaves with the state change or not
 * at all. A second append of the same event id (a retried operation) is a no-op.
 *
 * Every event carries a W3C `traceparent` (the relay sends it as `ce_traceparent`): the span it
 * was written in (the activity's, in a traced saga worker), else one derived from the saga's
 * correlation id, so a reader can still join one order's events into one trace.
 */
export async function appendEvent(tx: Sql, event: NewEvent): Promise<Envelope> {
  const env = envelope({
    ...event,
    traceparent:
      event.traceparent ?? traceparentOf() ?? derivedTraceparent(event.correlationId, eventId(event.causationId, event.type)),
  });
  await tx.run(APPEND, [env.id, topicFor(event.context), event.orderId, env.type, JSON.stringify(env), Date.now()]);
  return env;
}
