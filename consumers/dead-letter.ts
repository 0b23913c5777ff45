import type { IHeaders, KafkaMessage, Producer } from 'kafkajs';
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
  await producer.send({ topic: deadLetterTopic(topic), acks: -1, messages: [{ key: message.key, value: message.value, headers }] });
}
