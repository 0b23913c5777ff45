import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { UnreadableEvent } from '../events/unreadable';

/**
 * A poison message goes to `<topic>.dlq` byte for byte (key, value and original headers), with
 * why and where from in `dlq-*` headers, so it can be inspected and re-driven once fixed.
 */
export const deadLetterTopic = (topic: string): string => `${topic}.dlq`;

export const DLQ_HEADERS = {
  reason: 'dlq-reason',
  detail: 'dlq-detail',
  consumer: 'dlq-consumer',
  topic: 'dlq-original-topic',
  partition: 'dlq-original-partition',
  offset: 'dlq-original-offset',
  time: 'dlq-time',
} as const;

export async function sendToDeadLetter(
  producer: Producer,
  consumer: string,
  source: { topic: string; partition: number; message: KafkaMessage },
  why: UnreadableEvent,
): Promise<void> {
  const { topic, partition, message } = source;
  const headers: IHeaders = {
    ...(message.headers ?? {}),
    [DLQ_HEADERS.reason]: why.reason,
    [DLQ_HEADERS.detail]: why.detail.slice(0, 2_000),
    [DLQ_HEADERS.consumer]: consumer,
    [DLQ_HEADERS.topic]: topic,
    [DLQ_HEADERS.partition]: String(partition),
    [DLQ_HEADERS.offset]: message.offset,
    [DLQ_HEADERS.time]: new Date().toISOString(),
  };
  await producer.send({
    topic: deadLetterTopic(topic),
    acks: -1,
    messages: [{ key: message.key, value: message.value, headers }],
  });
}

export interface DeadLetter {
  partition: number;
  offset: string;
  reason: string;
  detail: string;
  consumer: string;
  originalTopic: string;
  eventId?: string;
  message: KafkaMessage;
}

const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString() ?? '';

/** Reads the whole dead-letter topic of `topic` as it is now (a private group, from the start). */
export async function readDeadLetters(kafka: Kafka, topic: string, { timeoutMs = 30_000 } = {}): Promise<DeadLetter[]> {
  const dlq = deadLetterTopic(topic);
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(dlq).finally(() => admin.disconnect());
  const remaining = new Map(ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high) - 1]));
  const letters: DeadLetter[] = [];
  if (remaining.size === 0) return letters;
  const reader = kafka.consumer({ groupId: `trapeze.dlq-reader.${randomUUID()}` });
  await reader.connect();
  try {
    await reader.subscribe({ topic: dlq, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`could not read ${dlq} to its end within ${timeoutMs} ms`)), timeoutMs);
      reader
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            letters.push({
              partition,
              offset: message.offset,
              reason: header(message, DLQ_HEADERS.reason),
              detail: header(message, DLQ_HEADERS.detail),
              consumer: header(message, DLQ_HEADERS.consumer),
              originalTopic: header(message, DLQ_HEADERS.topic) || topic,
              ...(message.headers?.ce_id ? { eventId: header(message, 'ce_id') } : {}),
              message,
            });
            if (Number(message.offset) >= (remaining.get(partition) ?? Infinity)) remaining.delete(partition);
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
  return letters.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

/**
 * Puts dead letters back on their original topic, byte for byte without the `dlq-*` headers,
 * once the reader that refused them has been fixed. Readers dedupe by event id, so a letter that
 * was in fact applied by another consumer group changes nothing there; one that is still poison
 * is parked again.
 */
export async function redriveDeadLetters(producer: Producer, letters: readonly DeadLetter[]): Promise<number> {
  for (const letter of letters) {
    const headers = Object.fromEntries(Object.entries(letter.message.headers ?? {}).filter(([name]) => !name.startsWith('dlq-')));
    await producer.send({
      topic: letter.originalTopic,
      acks: -1,
      messages: [{ key: letter.message.key, value: letter.message.value, headers }],
    });
  }
  return letters.length;
}
