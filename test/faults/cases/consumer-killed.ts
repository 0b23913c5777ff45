import { processedEventsTable } from '../../../consumers/processed-events';
import { waitUntil } from '../../wait';
import { burstWithFault } from '../burst';
import type { CaseResult, FaultCase } from '../case';
import type { PipelineRole, World } from '../world';

/**
 * Applied events whose offset the group has not committed yet: the consumer's effect is in its
 * database but Kafka would hand the event out again. (A committed offset is the next one to read.)
 */
async function appliedNotCommitted(world: World, consumer: PipelineRole): Promise<number> {
  const applied = await world.db.all<{ topic: string; kafka_partition: number; last: number }>(
    `SELECT topic, kafka_partition, MAX(CAST(kafka_offset AS INTEGER)) AS last FROM ${processedEventsTable(consumer)}
     WHERE event_id NOT LIKE 'poison:%' GROUP BY topic, kafka_partition`,
  );
  if (applied.length === 0) return 0;
  const admin = world.kafka.admin();
  await admin.connect();
  try {
    const topics = [...new Set(applied.map((a) => a.topic))];
    const committed = await admin.fetchOffsets({ groupId: `${world.prefix}.trapeze.${consumer}`, topics });
    let ahead = 0;
    for (const a of applied) {
      const at = committed.find((c) => c.topic === a.topic)?.partitions.find((p) => p.partition === Number(a.kafka_partition));
      const next = Number(at?.offset ?? -1);
      if (Number(a.last) >= next) ahead += Number(a.last) - Math.max(next, 0) + 1;
    }
    return ahead;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Case 7: each consumer (order view, notifications) dies by SIGKILL right after a chunk of events
 * committed its effects (and, for notifications, mailed) and before it resolved their offsets:
 * CONSUMER_CRASH_AFTER_APPLIES makes the process kill itself at that seam (`afterApply` in
 * consumers/event-consumer.ts), after a random 1–3 chunks. A kill counts only if Kafka still has
 * applied events uncommitted after it. The next member is handed them again; the dedupe rows
 * committed with the effects make them change nothing.
 */
export const consumerKilled: FaultCase = {
  name: 'consumer SIGKILL before offset commit',
  run(world, options): Promise<CaseResult> {
    const perConsumer = options.short ? 1 : 2;
    return burstWithFault(world, options, async ({ startRest, faulted }) => {
      let restStarted = false;
      const killLoop = async (consumer: PipelineRole) => {
        for (let k = 0; k < perConsumer;) {
          await world.roles[consumer].kill('SIGTERM');
          const crashAfter = String(1 + Math.floor(Math.random() * 3));
          const role = world.roles[consumer].restart({ CONSUMER_CRASH_AFTER_APPLIES: crashAfter });
          world.roles[consumer] = role;
          const child = role.child;
          await waitUntil(() => child.signalCode !== null || child.exitCode !== null, {
            timeoutMs: 300_000,
            what: `${consumer} to crash after ${crashAfter} applied chunk(s)`,
          });
          if (child.signalCode !== 'SIGKILL')
            throw new Error(`${consumer} exited otherwise (${child.exitCode ?? child.signalCode})`);
          const landed = (await appliedNotCommitted(world, consumer)) > 0;
          world.roles[consumer] = role.restart({});
          if (!landed) continue;
          k += 1;
          faulted();
          if (!restStarted) {
            restStarted = true;
            await startRest();
          }
        }
      };
      await Promise.all([killLoop('order-view'), killLoop('notifications')]);
      if (!restStarted) await startRest();
    });
  },
};
