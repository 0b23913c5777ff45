import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type IHeaders, type Producer } from 'kafkajs';
import pino from 'pino';
import { catalog } from '../../../events/catalog';
import { envelope, topicFor, type Envelope } from '../../../events/envelope';
import { readExamples } from '../../../events/examples';
import { toKafkaMessage } from '../../../events/kafka-binding';
import { eventSources } from '../../../versioning/event-sources';
import { kafkaBrokers, testTopic } from '../../env';
import { waitUntil } from '../../wait';

/**
 * Builders for consumer tests: a run-private copy of the context topics on the shared broker
 * (`route`), and saga events made from the stored examples.
 */
export const quiet = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function kafkaClient(clientId = 'consumer-test'): Kafka {
  return new Kafka({ clientId, brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
}

export function isolatedRoute(): { prefix: string; route: (topic: string) => string } {
  const prefix = testTopic(`it-${randomUUID().slice(0, 8)}`);
  return { prefix, route: (topic) => `${prefix}.${topic}` };
}

export async function createTopics(kafka: Kafka, route: (t: string) => string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const topics = ['orders', 'payments', 'inventory', 'shipping'].map((c) => route(`trapeze.${c}`));
  // Not waitForLeaders: KRaft may briefly answer "unknown topic" for a topic it just created.
  await admin.createTopics({ waitForLeaders: false, topics: topics.map((topic) => ({ topic, numPartitions: 3 })) });
  await waitUntil(
    async () => {
      const meta = await admin.fetchTopicMetadata({ topics });
      return meta.topics.every((t) => t.partitions.length === 3 && t.partitions.every((p) => p.leader >= 0));
    },
    { what: 'the test topics to have leaders' },
  );
  await admin.disconnect();
}

const exampleData = new Map(
  readExamples(eventSources.examplesDir).map((e) => [
    `${e.type}.v${e.version}`,
    (e.envelope as Envelope).data as Record<string, unknown>,
  ]),
);

/** An event of the catalog for one order, its data taken from the stored example. */
export function anEvent(
  type: keyof typeof catalog,
  orderId: string,
  opts: { version?: number; data?: Record<string, unknown>; time?: Date } = {},
): Envelope {
  const version = opts.version ?? 1;
  const base = exampleData.get(`${type}.v${version}`);
  if (!base) throw new Error(`no example for ${type} v${version}`);
  return envelope({
    context: catalog[type].context,
    type,
    schemaVersion: version,
    orderId,
    correlationId: `order-${orderId}`,
    causationId: `order-${orderId}/${type}`,
    data: { ...base, orderId, ...opts.data },
    ...(opts.time ? { time: opts.time } : {}),
  });
}

/** The events of a saga that ran to completion, in the order the saga emits them. */
export function completedSaga(orderId: string): Envelope[] {
  return (
    [
      'OrderSubmitted',
      'PaymentAuthorized',
      'StockReserved',
      'ShipmentAllocated',
      'OrderConfirmed',
      'ShipmentDispatched',
      'PaymentCaptured',
      'OrderCompleted',
    ] as const
  ).map((type) => anEvent(type, orderId));
}

export const topicOf = (env: Envelope, route: (t: string) => string) =>
  route(topicFor(catalog[env.type as keyof typeof catalog].context));

export async function publish(producer: Producer, route: (t: string) => string, events: Envelope[]): Promise<void> {
  for (const env of events)
    await producer.send({ topic: topicOf(env, route), acks: -1, messages: [toKafkaMessage(env.subject, env)] });
}

export async function publishRaw(
  producer: Producer,
  topic: string,
  message: { key: string; value: Buffer; headers?: IHeaders },
): Promise<void> {
  await producer.send({ topic, acks: -1, messages: [message] });
}
