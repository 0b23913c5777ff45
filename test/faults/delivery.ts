import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { orderViewContract } from '../../consumers/order-view/contract';
import { processedEventsTable } from '../../consumers/processed-events';
import { BoundedContext, topicFor } from '../../events/envelope';
import { waitUntil } from '../wait';
import type { World } from './world';

/**
 * The event pipeline's part of the verdict, once the sagas have ended: every outbox row reached
 * Kafka (its ce_id is on the world's topic), once per ce_id after dedupe, and in each order's
 * append order within its topic (first deliveries in partition order = outbox order); the
 * consumers applied every event they read exactly once (order view: one step per event read;
 * notifications: one notification, delivered, per OrderConfirmed). Redeliveries (a ce_id on the
 * topic twice) are at-least-once at work, not a fault: they are counted, not charged. Messages
 * that are no outbox row's (an outside producer's) are `foreign`; a case says how many it wrote.
 */
export interface DeliveryVerdict {
  lost: number;
  duplicated: number;
  discrepancies: number;
  /** Kafka messages repeating a ce_id already delivered (consumers dedupe them). */
  redelivered: number;
  foreign: ForeignMessage[];
  notes: string[];
  /** When the pipeline was found drained (ms since the epoch), or when waiting for it gave up. */
  drainedAt: number;
}

export interface ForeignMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | undefined;
}

interface Delivered {
  topic: string;
  partition: number;
  offset: string;
  key: string | undefined;
  ceId: string | undefined;
}

const ORDER_VIEW_READS = orderViewContract.reads.map((r) => r.type);
const inList = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

/** Counts what is still on its way: unsent rows, events the order view has not applied, mail not sent. */
async function backlog(world: World): Promise<{ unsent: number; view: number; mail: number }> {
  const one = async (sql: string) => Number((await world.db.get<{ n: number }>(sql))?.n ?? 0);
  return {
    unsent: await one(
      `SELECT COUNT(*) AS n FROM outbox_queue q JOIN outbox o ON o.seq = q.seq WHERE o.type <> 'ReconciliationFinding'`,
    ),
    view: await one(
      `SELECT COUNT(*) AS n FROM outbox o WHERE o.type IN (${inList(ORDER_VIEW_READS)})
       AND NOT EXISTS (SELECT 1 FROM ${processedEventsTable('order-view')} p WHERE p.event_id = o.id)`,
    ),
    mail: await one(
      `SELECT COUNT(*) AS n FROM outbox o WHERE o.type = 'OrderConfirmed'
       AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.event_id = o.id AND n.status = 'sent')`,
    ),
  };
}

/** Reads the world's context topics from their start to their current end. */
export async function readTopics(world: World, topics: string[], timeoutMs = 60_000): Promise<Delivered[]> {
  const admin = world.kafka.admin();
  await admin.connect();
  const remaining = new Map<string, number>();
  try {
    const existing = new Set(await admin.listTopics());
    for (const topic of topics.filter((t) => existing.has(t))) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (Number(p.high) > Number(p.low)) remaining.set(`${topic}/${p.partition}`, Number(p.high) - 1);
      }
    }
  } finally {
    await admin.disconnect();
  }
  const out: Delivered[] = [];
  if (remaining.size === 0) return out;
  const subscribed = [...new Set([...remaining.keys()].map((k) => k.slice(0, k.lastIndexOf('/'))))];
  const reader = world.kafka.consumer({ groupId: `${world.prefix}.judge.${randomUUID().slice(0, 8)}` });
  await reader.connect();
  try {
    await reader.subscribe({ topics: subscribed, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`could not read the topics to their end within ${timeoutMs} ms`)),
        timeoutMs,
      );
      reader
        .run({
          autoCommit: false,
          eachMessage: async ({ topic, partition, message }: { topic: string; partition: number; message: KafkaMessage }) => {
            out.push({
              topic,
              partition,
              offset: message.offset,
              key: message.key?.toString(),
              ceId: message.headers?.ce_id?.toString(),
            });
            const at = `${topic}/${partition}`;
            if (Number(message.offset) >= (remaining.get(at) ?? Infinity)) remaining.delete(at);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await reader.disconnect();
  }
  return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

export async function judgeDelivery(world: World, { deadlineMs }: { deadlineMs: number }): Promise<DeliveryVerdict> {
  const notes: string[] = [];
  let lost = 0;
  let duplicated = 0;
  let discrepancies = 0;
  const left = await waitUntil(
    async () => {
      const b = await backlog(world);
      return b.unsent + b.view + b.mail === 0 ? b : undefined;
    },
    { timeoutMs: deadlineMs, intervalMs: 250, what: 'the pipeline to deliver everything' },
  ).catch(() => backlog(world));
  const drainedAt = Date.now();
  if (left.unsent + left.view + left.mail > 0)
    notes.push(`pipeline not drained: ${left.unsent} unsent, ${left.view} not in the order view, ${left.mail} mails not sent`);

  const rows = await world.db.all<{
    seq: number;
    id: string;
    topic: string;
    msg_key: string;
    type: string;
    parked_at: number | null;
  }>(`SELECT seq, id, topic, msg_key, type, parked_at FROM outbox WHERE type <> 'ReconciliationFinding' ORDER BY seq`);
  const route = (topic: string) => `${world.prefix}.${topic}`;
  const delivered = await readTopics(
    world,
    BoundedContext.options.map((c) => route(topicFor(c))),
  );

  // Every row on its topic, once after dedupe.
  const byId = new Map(rows.map((r) => [r.id, r]));
  const seen = new Map<string, Delivered>();
  let redelivered = 0;
  const foreign: ForeignMessage[] = [];
  const firsts: Delivered[] = [];
  for (const m of delivered) {
    const row = m.ceId ? byId.get(m.ceId) : undefined;
    if (!row) {
      foreign.push({ topic: m.topic, partition: m.partition, offset: m.offset, key: m.key });
      continue;
    }
    if (route(row.topic) !== m.topic || row.msg_key !== m.key) {
      discrepancies += 1;
      notes.push(`${row.id} (${row.type}) arrived on ${m.topic} under key ${m.key ?? '(none)'}`);
    }
    if (seen.has(row.id)) {
      redelivered += 1;
      continue;
    }
    seen.set(row.id, m);
    firsts.push(m);
  }
  for (const r of rows) {
    if (seen.has(r.id)) continue;
    lost += 1;
    notes.push(`${r.msg_key}: ${r.type} (${r.id}) never reached Kafka${r.parked_at ? ' (parked)' : ''}`);
  }

  // Per order and topic, first deliveries in offset order follow the outbox's order.
  const delivery = new Map<string, string[]>();
  for (const m of firsts) {
    const row = byId.get(m.ceId!)!;
    const k = `${row.topic}\u0000${row.msg_key}`;
    delivery.set(k, [...(delivery.get(k) ?? []), `${m.partition}:${row.id}`]);
  }
  const appended = new Map<string, string[]>();
  for (const r of rows) {
    if (!seen.has(r.id)) continue;
    const k = `${r.topic}\u0000${r.msg_key}`;
    appended.set(k, [...(appended.get(k) ?? []), r.id]);
  }
  for (const [k, ids] of appended) {
    const got = delivery.get(k) ?? [];
    const partitions = new Set(got.map((g) => g.slice(0, g.indexOf(':'))));
    const order = got.map((g) => g.slice(g.indexOf(':') + 1));
    if (partitions.size > 1 || order.join() !== ids.join()) {
      discrepancies += 1;
      const [topic, key] = k.split('\u0000');
      notes.push(`${key} on ${topic}: delivered out of order (${order.map((id) => byId.get(id)?.type).join(' → ')})`);
    }
  }

  // The consumers' effects: each event read applied once, each confirmation mailed once.
  const view = await world.db.all<{ order_id: string; expected: number; applied: number | null; steps: number }>(
    `SELECT o.msg_key AS order_id, COUNT(*) AS expected,
       (SELECT v.events_applied FROM order_view v WHERE v.order_id = o.msg_key) AS applied,
       (SELECT COUNT(*) FROM order_view_steps s WHERE s.order_id = o.msg_key) AS steps
     FROM outbox o WHERE o.type IN (${inList(ORDER_VIEW_READS)}) GROUP BY o.msg_key`,
  );
  for (const v of view) {
    const applied = Number(v.applied ?? 0);
    const expected = Number(v.expected);
    if (applied > expected) duplicated += applied - expected;
    if (applied < expected) lost += expected - applied;
    if (applied !== expected || Number(v.steps) !== applied)
      notes.push(`${v.order_id}: order view applied ${applied} event(s) in ${Number(v.steps)} step(s), ${expected} published`);
  }
  const mail = await world.db.all<{ event_id: string; order_id: string; notes: number; delivered: number }>(
    `SELECT o.id AS event_id, o.msg_key AS order_id,
       (SELECT COUNT(*) FROM notifications n WHERE n.order_id = o.msg_key) AS notes,
       (SELECT COUNT(*) FROM notification_mailbox m JOIN notifications n ON n.id = m.notification_id
         WHERE n.order_id = o.msg_key) AS delivered
     FROM outbox o WHERE o.type = 'OrderConfirmed'`,
  );
  for (const m of mail) {
    const delivered = Number(m.delivered);
    if (Number(m.notes) > 1 || delivered > 1) duplicated += Math.max(Number(m.notes), delivered) - 1;
    if (delivered === 0) lost += 1;
    if (Number(m.notes) !== 1 || delivered !== 1)
      notes.push(`${m.order_id}: ${Number(m.notes)} notification(s), ${delivered} mail(s) for one OrderConfirmed`);
  }
  return { lost, duplicated, discrepancies, redelivered, foreign, notes, drainedAt };
}
