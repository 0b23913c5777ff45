import { Kafka, logLevel } from 'kafkajs';
import { fromKafkaMessage } from '../events/kafka-binding';

/**
 * The lag run's reader, in a process of its own (as the projections are): it joins its group,
 * says so, reads `total` messages from `topic` and sends back each one's end-to-end latency
 * (receipt - the event's time). In the relay's process it took the relay's event loop: decoding
 * thousands of messages a second there delayed every batch it shared the loop with.
 */
async function main([brokers, topic, groupId, totalText]: string[]): Promise<void> {
  const total = Number(totalText);
  const kafka = new Kafka({ clientId: 'bench-relay-reader', brokers: brokers!.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: groupId!, maxWaitTimeInMs: 20 });
  const endToEnd: number[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => process.send?.({ joined: true }));
  await consumer.connect();
  await consumer.subscribe({ topic: topic!, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      endToEnd.push(Date.now() - Date.parse(fromKafkaMessage(message).time));
      if (endToEnd.length >= total) done();
    },
  });
  await finished;
  await consumer.disconnect();
  // Exit only once the message is out: tens of thousands of latencies take more than one write.
  await new Promise<void>((resolve) => (process.send ? process.send({ endToEnd }, () => resolve()) : resolve()));
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
