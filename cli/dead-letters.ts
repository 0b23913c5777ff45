import type { Command } from 'commander';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { deadLetterTopic, readDeadLetters, redriveDeadLetters, type DeadLetter } from '../consumers/dead-letter';
import { act, unavailable, type Context } from './context';

/**
 * `trapeze dead-letters list|redrive <topic>`: the consumers' dead-letter topics (`<topic>.dlq`).
 * `list` prints each parked message (position, reason, consumer, event id, detail; never the data,
 * which may hold personal data). `redrive` puts the selected ones back on the topic after the reader
 * was fixed; a letter already redriven is sent again (readers dedupe by event id).
 */
interface Filter {
  reason?: string;
  consumer?: string;
}

export function deadLetterCommands(program: Command, ctx: Context): void {
  const group = program
    .command('dead-letters')
    .description("the consumers' dead-letter topics in Kafka (the outbox's own are `outbox dead-letters`)");
  const brokers = () => ctx.config.kafka.brokers;
  // Few retries: an operator wants the one line about Kafka being down, not a minute of reconnects.
  const kafka = () =>
    new Kafka({ clientId: 'trapeze-cli', brokers: brokers(), logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const down = (err: unknown) =>
    unavailable('Kafka', brokers().join(','), err, 'start the stack with `npm start` (or set KAFKA_BROKERS)');
  const read = async (topic: string, f: Filter): Promise<DeadLetter[]> => {
    const client = kafka();
    const admin = client.admin();
    await admin.connect().catch((err: unknown) => {
      throw down(err);
    });
    // No dead-letter topic yet: nothing was ever parked for it (and kafkajs would retry a missing one for long).
    const exists = await admin
      .listTopics()
      .then((topics) => topics.includes(deadLetterTopic(topic)))
      .finally(() => admin.disconnect());
    if (!exists) return [];
    const letters = await readDeadLetters(client, topic);
    return letters.filter((l) => (!f.reason || l.reason === f.reason) && (!f.consumer || l.consumer === f.consumer));
  };
  const shape = (l: DeadLetter) => ({
    partition: l.partition,
    offset: l.offset,
    reason: l.reason,
    consumer: l.consumer,
    eventId: l.eventId ?? null,
    detail: l.detail,
  });
  const line = (l: DeadLetter) =>
    `${l.partition}@${l.offset}  ${l.reason.padEnd(19)}  ${l.consumer.padEnd(13)}  ${l.eventId ?? '(no id)'}  ${l.detail}`;
  const filters = (c: Command) =>
    c.option('--reason <reason>', 'only letters parked for this reason').option('--consumer <consumer>', 'only this consumer’s');

  filters(group.command('list').description('what is parked in <topic>.dlq').argument('<topic>')).action(
    act(ctx, async (topic: string, f: Filter) => {
      const letters = await read(topic, f);
      ctx.emit({ topic, deadLetters: letters.map(shape) }, () => [
        ...letters.map(line),
        `${letters.length} dead letter(s) in ${topic}.dlq`,
      ]);
    }),
  );

  filters(group.command('redrive').description('puts the selected letters back on <topic>').argument('<topic>')).action(
    act(ctx, async (topic: string, f: Filter) => {
      const letters = await read(topic, f);
      const producer = kafka().producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await producer.connect();
      try {
        const n = await redriveDeadLetters(producer, letters);
        ctx.emit({ topic, redriven: n, deadLetters: letters.map(shape) }, () => [
          ...letters.map(line),
          `redrove ${n} dead letter(s) to ${topic}`,
        ]);
      } finally {
        await producer.disconnect();
      }
    }),
  );
}
