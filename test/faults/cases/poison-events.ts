import { randomUUID } from 'node:crypto';
import type { Message } from 'kafkajs';
import { DLQ_HEADERS, readDeadLetters, type DeadLetter } from '../../../consumers/dead-letter';
import type { UnreadableReason } from '../../../events/unreadable';
import { toKafkaMessage } from '../../../events/kafka-binding';
import { anEvent } from '../../integration/consumers/harness';
import { waitUntil } from '../../wait';
import { burstWithFault, sentRows } from '../burst';
import type { CaseResult, FaultCase } from '../case';
import type { PipelineRole, World } from '../world';

interface Poison {
  /** The context topic, unprefixed. */
  topic: string;
  message: Message;
  reason: UnreadableReason;
  /** Which consumers read that topic and so must park it. */
  parkedBy: PipelineRole[];
}

const BOTH: PipelineRole[] = ['order-view', 'notifications'];

/** An event as the relay would write it, under an id no outbox row has. */
function written(type: Parameters<typeof anEvent>[0], orderId: string, data?: Record<string, unknown>): Message {
  const message = toKafkaMessage(orderId, anEvent(type, orderId, data ? { data } : {}));
  return { ...message, headers: { ...message.headers, ce_id: `poison-${randomUUID()}` } };
}

/** One of each way a message can be unreadable, keyed to a real order of the burst (same partition as its events). */
function poisons(orderId: string): Poison[] {
  const confirmed = written('OrderConfirmed', orderId);
  const badData = written('OrderConfirmed', orderId, { customer: { name: 42 } });
  const future = written('PaymentAuthorized', orderId);
  const untyped = written('ShipmentAllocated', orderId);
  delete untyped.headers!.ce_type;
  return [
    {
      topic: 'trapeze.orders',
      message: { ...confirmed, value: '{"orderId": "truncated' },
      reason: 'undecodable',
      parkedBy: BOTH,
    },
    {
      topic: 'trapeze.payments',
      message: { key: orderId, value: '{"orderId":"plain json, no headers"}' },
      reason: 'undecodable',
      parkedBy: ['order-view'],
    },
    { topic: 'trapeze.orders', message: badData, reason: 'invalid-data', parkedBy: BOTH },
    {
      topic: 'trapeze.payments',
      message: { ...future, headers: { ...future.headers, ce_schemaversion: '99' } },
      reason: 'unsupported-version',
      parkedBy: ['order-view'],
    },
    { topic: 'trapeze.shipping', message: untyped, reason: 'invalid-envelope', parkedBy: ['order-view'] },
  ];
}

interface Written extends Poison {
  partition: number;
  offset: string;
}

async function inject(world: World, orderId: string): Promise<Written[]> {
  const producer = world.kafka.producer();
  await producer.connect();
  try {
    const out: Written[] = [];
    for (const p of poisons(orderId)) {
      const [meta] = await producer.send({ topic: `${world.prefix}.${p.topic}`, acks: -1, messages: [p.message] });
      out.push({ ...p, partition: meta!.partition, offset: meta!.baseOffset ?? '-1' });
    }
    return out;
  } finally {
    await producer.disconnect();
  }
}

const header = (l: DeadLetter, name: string) => l.message.headers?.[name]?.toString();

/**
 * Case 8: an outside producer writes poison to the world's topics twice during the burst, keyed
 * to real orders: a value that is not JSON, a message with no CloudEvents headers, an event whose
 * data breaks its schema, a schema version from the future, an envelope without a type. Each
 * consumer that reads the topic parks each one in `<topic>.dlq` with the reason it could not read
 * it, exactly once, and goes on: the judge finds nothing else lost, duplicated or out of order.
 * A poison message missing from a dead-letter topic counts as lost; a wrong reason as a discrepancy.
 */
export const poisonEvents: FaultCase = {
  name: 'poison and malformed events',
  async run(world, options): Promise<CaseResult> {
    const injected: Written[] = [];
    const result = await burstWithFault(
      world,
      options,
      async ({ startRest, faulted }) => {
        await waitUntil(async () => (await sentRows(world)) > 0, { timeoutMs: 300_000, what: 'the first events to reach Kafka' });
        injected.push(...(await inject(world, `${world.taskQueue}-1`)));
        faulted();
        await startRest();
        await waitUntil(async () => (await sentRows(world)) > 20, { timeoutMs: 300_000, what: 'the burst to move on' });
        injected.push(...(await inject(world, `${world.taskQueue}-${options.sagas - 1}`)));
        faulted();
      },
      { foreign: () => injected.length },
    );
    const { verdict } = result;
    const parked = injected.flatMap((p) => p.parkedBy.map((consumer) => ({ ...p, consumer })));
    const topics = [...new Set(injected.map((p) => `${world.prefix}.${p.topic}`))];
    const letters = await waitUntil(
      async () => {
        const all = (await Promise.all(topics.map((t) => readDeadLetters(world.kafka, t)))).flat();
        return all.length >= parked.length ? all : undefined;
      },
      { timeoutMs: 60_000, what: `${parked.length} dead letters` },
    ).catch(async () => (await Promise.all(topics.map((t) => readDeadLetters(world.kafka, t)))).flat());
    for (const p of parked) {
      const found = letters.filter(
        (l) =>
          l.consumer === p.consumer &&
          l.originalTopic === `${world.prefix}.${p.topic}` &&
          header(l, DLQ_HEADERS.partition) === String(p.partition) &&
          header(l, DLQ_HEADERS.offset) === p.offset,
      );
      if (found.length === 0) {
        verdict.lost += 1;
        verdict.notes.push(`${p.topic}@${p.partition}/${p.offset} (${p.reason}) never reached ${p.consumer}'s dead letters`);
        continue;
      }
      if (found.length > 1) {
        verdict.duplicated += found.length - 1;
        verdict.notes.push(`${p.topic}@${p.partition}/${p.offset} parked ${found.length} times by ${p.consumer}`);
      }
      if (found[0]!.reason !== p.reason) {
        verdict.discrepancies += 1;
        verdict.notes.push(
          `${p.topic}@${p.partition}/${p.offset} parked by ${p.consumer} as ${found[0]!.reason || '(no reason)'}, not ${p.reason}`,
        );
      }
    }
    if (letters.length > parked.length) {
      verdict.discrepancies += letters.length - parked.length;
      verdict.notes.push(`${letters.length - parked.length} dead letter(s) beyond the poison written`);
    }
    verdict.notes.push(`${parked.length} dead letters expected, ${letters.length} found`);
    return result;
  },
};
