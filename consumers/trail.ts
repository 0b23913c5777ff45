import type { Database } from '../platform/database';

/**
 * Where one order's events went: written to the outbox, published to a topic partition and
 * offset, applied by the order view, turned into a notification. `npm start` prints it for the
 * sample orders; an operator uses it to answer "did the customer get told?".
 */
export interface TrailEntry {
  seq: number;
  type: string;
  topic: string;
  published: boolean;
  /** `partition@offset` as the order view received it, when it has. */
  position?: string;
  inOrderView: boolean;
  notification?: string;
}

export async function orderEventTrail(stores: { outbox: Database; consumers: Database }, orderId: string): Promise<TrailEntry[]> {
  const written = await stores.outbox.all<{ seq: number; id: string; type: string; topic: string; sent_at: number | null }>(
    // outbox_sent: the published rows (a table on PostgreSQL, a view of the outbox on SQLite).
    `SELECT o.seq, o.id, o.type, o.topic, s.sent_at FROM outbox o LEFT JOIN outbox_sent s ON s.seq = o.seq
     WHERE o.msg_key = ? ORDER BY o.seq`,
    [orderId],
  );
  const optional = async <T>(sql: string): Promise<T[]> => stores.consumers.all<T>(sql, [orderId]).catch(() => []); // a consumer not deployed has no tables
  const applied = new Map(
    (
      await optional<{ event_id: string; kafka_partition: number; kafka_offset: string }>(
        'SELECT event_id, kafka_partition, kafka_offset FROM order_view_steps WHERE order_id = ?',
      )
    ).map((s) => [s.event_id, `${s.kafka_partition}@${s.kafka_offset}`]),
  );
  const notified = new Map(
    (await optional<{ event_id: string; status: string }>('SELECT event_id, status FROM notifications WHERE order_id = ?')).map(
      (n) => [n.event_id, n.status],
    ),
  );
  return written.map((w) => ({
    seq: Number(w.seq),
    type: w.type,
    topic: w.topic,
    published: w.sent_at !== null,
    ...(applied.has(w.id) ? { position: applied.get(w.id) } : {}),
    inOrderView: applied.has(w.id),
    ...(notified.has(w.id) ? { notification: notified.get(w.id) } : {}),
  }));
}

export function formatTrail(orderId: string, entries: TrailEntry[]): string {
  const width = Math.max(0, ...entries.map((e) => e.type.length));
  const lines = entries.map((e) => {
    const where = e.published ? `${e.topic}${e.position ? ` p${e.position}` : ''}` : `${e.topic} (waiting in the outbox)`;
    const effects = [e.inOrderView ? 'order view' : undefined, e.notification ? `notification ${e.notification}` : undefined]
      .filter(Boolean)
      .join(', ');
    return `  ${e.type.padEnd(width)}  outbox #${e.seq} → ${where}${effects ? ` → ${effects}` : ''}`;
  });
  return [`order ${orderId}:`, ...lines].join('\n');
}

/**
 * The trails of some orders once they have settled: every written event published and, where the
 * order view reads it, applied (or the deadline passed: the trail then shows what is missing).
 */
export async function settledTrails(
  stores: { outbox: Database; consumers: Database },
  orderIds: readonly string[],
  { timeoutMs = 20_000, readsType = (): boolean => true }: { timeoutMs?: number; readsType?: (type: string) => boolean } = {},
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const settled = (trail: TrailEntry[]) => trail.every((e) => e.published && (e.inOrderView || !readsType(e.type)));
  let trails = await Promise.all(orderIds.map((id) => orderEventTrail(stores, id)));
  while (!trails.every(settled) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    trails = await Promise.all(orderIds.map((id) => orderEventTrail(stores, id)));
  }
  return orderIds.map((id, i) => formatTrail(id, trails[i] ?? [])).join('\n');
}
