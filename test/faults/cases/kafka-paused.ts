import { waitUntil } from '../../wait';
import { burstWithFault, sentRows } from '../burst';
import type { CaseResult, FaultCase } from '../case';
import { openWorld } from '../world';

/** Longer than kafkajs's request timeout (30 s) and the relay's send deadline (RELAY_SEND_TIMEOUT_MS, 30 s). */
const PAUSE_MS = 35_000;

/**
 * Case 4: the world's own broker is frozen with SIGSTOP for longer than the clients' request
 * timeout, then resumed with SIGCONT. Unlike a stop, connections stay open and requests hang
 * unanswered: the relay abandons sends it cannot cancel (they may still land), the consumers'
 * sessions look expired to the broker when it wakes. Afterwards everything arrives, once and in
 * order after dedupe.
 */
export const kafkaPaused: FaultCase = {
  name: 'Kafka paused (SIGSTOP) past timeouts',
  open: (label) => openWorld(label, { ownBroker: true }),
  run(world, options): Promise<CaseResult> {
    const broker = world.broker!;
    return burstWithFault(world, options, async ({ startRest, faulted }) => {
      await waitUntil(async () => (await sentRows(world)) > 0, {
        timeoutMs: 300_000,
        what: 'the first events to reach Kafka before the broker is paused',
      });
      const pid = broker.pid();
      if (!pid) throw new Error('the world broker has no process id');
      process.kill(pid, 'SIGSTOP');
      faulted();
      try {
        const paused = Date.now();
        await startRest();
        // The fault is the pause's length itself.
        await new Promise((r) => setTimeout(r, Math.max(0, PAUSE_MS - (Date.now() - paused))));
      } finally {
        process.kill(pid, 'SIGCONT');
      }
    });
  },
};
