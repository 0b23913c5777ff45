import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Message } from 'kafkajs';
import pino from 'pino';
import { catalog } from '../events/catalog';
import { envelope, topicFor, type Envelope } from '../events/envelope';
import { readExamples } from '../events/examples';
import { toKafkaMessage } from '../events/kafka-binding';
import { eventSources } from '../versioning/event-sources';
import { upcasters } from '../events/catalog/upcasters';
import { createEventConsumer } from '../consumers/event-consumer';
import { orderViewContract } from '../consumers/order-view/contract';
import { orderViewMigrations } from '../consumers/order-view/migrations';
import { projectOrderView } from '../consumers/order-view/projection';
import { openDatabase } from '../platform/database';
import { migrate } from '../platform/migrations';
import { runCommand } from '../infra/command';

/**
 * `npm run bench:order-view [-- --orders N] [--database <url>]`: how fast the order view consumer
 * applies events (decode, validate, upcast, dedupe and project, one transaction per event). The
 * topics are filled first, then a fresh consumer group reads them from the beginning.
 */
const SAGA = [
  'OrderSubmitted',
  'PaymentAuthorized',
  'StockReserved',
  'ShipmentAllocated',
  'OrderConfirmed',
  'ShipmentDispatched',
  'PaymentCaptured',
  'OrderCompleted',
] as const;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => args[args.indexOf(name) + 1];
  const orders = Number(args.includes('--orders') ? flag('--orders') : 500);
  const url = args.includes('--database')
    ? (flag('--database') as string)
    : `sqlite:${join(mkdtempSync(join(tmpdir(), 'bench-view-')), 'view.db')}`;
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const kafka = new Kafka({ clientId: 'bench-order-view', brokers, logLevel: logLevel.NOTHING });
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const route = (t: string) => `${prefix}.${t}`;
  const examples = new Map(
    readExamples(eventSources.examplesDir).map((e) => [e.type, (e.envelope as Envelope).data as Record<string, unknown>]),
  );

  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: ['orders', 'payments', 'inventory', 'shipping'].map((c) => ({ topic: route(`trapeze.${c}`), numPartitions: 3 })),
  });
  await admin.disconnect();

  const byTopic = new Map<string, Message[]>();
  for (let i = 0; i < orders; i++) {
    const orderId = `bench-${i}-${randomUUID().slice(0, 6)}`;
    for (const type of SAGA) {
      const env = envelope({
        context: catalog[type].context,
        type,
        schemaVersion: 1,
        orderId,
        correlationId: `order-${orderId}`,
        causationId: `order-${orderId}/${type}`,
        data: { ...examples.get(type), orderId },
      });
      const topic = route(topicFor(catalog[type].context));
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), toKafkaMessage(orderId, env)]);
    }
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (const [topic, messages] of byTopic) {
    for (let i = 0; i < messages.length; i += 500) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
  }
  await producer.disconnect();
  const total = orders * SAGA.length;

  const db = openDatabase(url);
  await migrate(db, orderViewMigrations);
  const consumer = createEventConsumer({
    name: 'order-view',
    kafka,
    db,
    catalog,
    upcasters,
    contract: orderViewContract,
    apply: projectOrderView(db.dialect),
    route,
    log: pino({ level: 'silent' }),
    groupId: `${prefix}-view`,
  });
  const began = Date.now();
  await consumer.start();
  while (consumer.status().applied < total) await new Promise((r) => setTimeout(r, 50));
  const seconds = (Date.now() - began) / 1000;
  await consumer.stop();
  await db.close();
  console.log(
    `order view on ${db.dialect}: ${total} events of ${orders} sagas applied in ${seconds.toFixed(1)} s (incl. group join): ${Math.round(total / seconds)} events/s`,
  );
}

runCommand('bench:order-view', main);
