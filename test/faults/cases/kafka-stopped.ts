import { waitUntil } from '../../wait';
import { burstWithFault, sentRows } from '../burst';
import type { CaseResult, FaultCase } from '../case';
import { openWorld } from '../world';

/** Down this long: several relay send deadlines and consumer reconnect rounds. */
const OUTAGE_MS = 30_000;

/**
 * Case 3: the world's own Kafka broker is stopped for 30 s mid-burst, then started again on its
 * storage. The sagas go on meanwhile (their events wait in the outbox); the relay backs off and
 * the consumers reconnect; afterwards everything arrives, once and in order.
 */
export const kafkaStopped: FaultCase = {
  name: 'Kafka stopped for 30 s mid-burst',
  open: (label) => openWorld(label, { ownBroker: true }),
  run(world, options): Promise<CaseResult> {
    const broker = world.broker!;
    return burstWithFault(world, options, async ({ startRest, faulted }) => {
      await waitUntil(async () => (await sentRows(world)) > 0, {
        timeoutMs: 300_000,
        what: 'the first events to reach Kafka before it is stopped',
      });
      await broker.stop();
      faulted();
      const down = Date.now();
      await startRest();
      // The fault is the outage's length itself: the broker stays down for OUTAGE_MS.
      await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - down))));
      await broker.start();
    });
  },
};
