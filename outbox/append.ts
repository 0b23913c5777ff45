import { envelope, eventId, topicFor, type NewEvent, type Envelope } from '../events/envelope';
import { preparedStatement, type Sql, type SqlValue } from '../platform/database';
import { derivedTraceparent, traceparentOf } from '../platform/trace-context';

const COLUMNS = `INSERT INTO outbox (id, topic, msg_key, type, envelope, created_at) VALUES`;
const ROW = '(?, ?, ?, ?, ?, ?)';

/**
 * Rows per statement of `appendEvents`. Each size is one statement prepared once per PostgreSQL
 * connection (the one-row insert every saga step makes above all: the lag benchmark's writers were
 * capped by the database's CPU for parsing and planning it), so sizes stay few.
 */
const ROWS_PER_STATEMENT = 50;

function stamped(event: NewEvent): Envelope {
  return envelope({
    ...event,
    traceparent:
      event.traceparent ?? traceparentOf() ?? derivedTraceparent(event.correlationId, eventId(event.causationId, event.type)),
  });
}

const columnsOf = (event: NewEvent, env: Envelope, at: number): SqlValue[] => [
  env.id,
  topicFor(event.context),
  event.orderId,
  env.type,
  JSON.stringify(env),
  at,
];

/**
 * Appends a domain event inside the caller's transaction: it leaves with the state change or not
 * at all. A second append of the same event id (a retried operation) is a no-op.
 *
 * Every event carries a W3C `traceparent` (the relay sends it as `ce_traceparent`): the span it
 * was written in (the activity's, in a traced saga worker), else one derived from the saga's
 * correlation id, so a reader can still join one order's events into one trace.
 */
export async function appendEvent(tx: Sql, event: NewEvent): Promise<Envelope> {
  const [env] = await appendEvents(tx, [event]);
  return env!;
}

/**
 * Appends several events in the caller's transaction, in their order, as `appendEvent` would one
 * by one but in one statement per 50: on PostgreSQL a round trip per event, not the insert, was
 * what a writer of many events paid most (the relay benchmark's writers could not offer 5,000/s).
 */
export async function appendEvents(tx: Sql, events: readonly NewEvent[]): Promise<Envelope[]> {
  const envelopes = events.map(stamped);
  const at = Date.now();
  for (let from = 0; from < events.length; from += ROWS_PER_STATEMENT) {
    const to = Math.min(events.length, from + ROWS_PER_STATEMENT);
    const params = events.slice(from, to).flatMap((event, i) => columnsOf(event, envelopes[from + i]!, at));
    const rows = Array.from({ length: to - from }, () => ROW).join(', ');
    await tx.run(preparedStatement(`${COLUMNS} ${rows} ON CONFLICT (id) DO NOTHING`), params);
  }
  return envelopes;
}
