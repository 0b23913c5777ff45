import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { readDeadLetters, redriveDeadLetters } from '../consumers/dead-letter';
import { readConfig } from '../platform/config';

/**
 * Operator commands for dead letters:
 *   npm run dead-letters -- list trapeze.orders [--reason R] [--consumer C]
 *   npm run dead-letters -- redrive trapeze.orders [--reason R] [--consumer C]
 * `list` prints each parked message (position, reason, consumer, event id, detail; never the
 * data, which may hold personal data). `redrive` puts the selected ones back on the topic after
 * the reader was fixed; a letter already redriven is sent again (readers dedupe by event id).
 */
async function main([command, topic, ...rest]: string[]): Promise<number> {
  if ((command !== 'list' && command !== 'redrive') || !topic) {
    console.error('usage: npm run dead-letters -- list|redrive <topic> [--reason R] [--consumer C]');
    return 2;
  }
  const option = (name: string) => (rest.includes(name) ? rest[rest.indexOf(name) + 1] : undefined);
  const reason = option('--reason');
  const consumer = option('--consumer');
  const config = readConfig();
  const kafka = new Kafka({ clientId: 'trapeze-dead-letters', brokers: config.kafka.brokers, logLevel: logLevel.ERROR });
  const letters = (await readDeadLetters(kafka, topic)).filter(
    (l) => (!reason || l.reason === reason) && (!consumer || l.consumer === consumer),
  );
  for (const l of letters) {
    console.log(
      `${l.partition}@${l.offset}  ${l.reason.padEnd(19)}  ${l.consumer.padEnd(13)}  ${l.eventId ?? '(no id)'}  ${l.detail}`,
    );
  }
  if (command === 'list') {
    console.log(`${letters.length} dead letter(s) in ${topic}.dlq`);
    return 0;
  }
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    console.log(`redrove ${await redriveDeadLetters(producer, letters)} dead letter(s) to ${topic}`);
  } finally {
    await producer.disconnect();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
