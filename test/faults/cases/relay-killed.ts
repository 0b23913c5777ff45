import { waitUntil } from '../../wait';
import { burstWithFault, sentRows } from '../burst';
import type { CaseResult, FaultCase } from '../case';

/**
 * The relays' lease short enough that a dead relay's claim lapses within the case (the default
 * minute would stall each order behind it that long); it must exceed the send timeout by 5 s.
 */
const CLAIMS = { RELAY_SEND_TIMEOUT_MS: '10000', RELAY_LEASE_MS: '15000' };

/**
 * Case 5: the relay process dies (SIGKILL, by its own hand: RELAY_CRASH_AFTER_SENDS) right after
 * Kafka acknowledged a batch and before it marked the rows sent, several times. Each new relay
 * takes the dead one's rows once their lease lapses and publishes them again: Kafka holds them
 * twice, the consumers apply them once, and each order's first deliveries stay in order.
 */
export const relayKilled: FaultCase = {
  name: 'relay SIGKILL between send and mark',
  async run(world, options): Promise<CaseResult> {
    const kills = options.short ? 2 : 3;
    let relay = world.roles.relay;
    let injected = 0;
    const result = await burstWithFault(world, options, async ({ startRest, faulted }) => {
      // The pipeline runs before the first crashing relay takes over from the world's own.
      await waitUntil(async () => (await sentRows(world)) > 0, {
        timeoutMs: 300_000,
        what: 'the first events to reach Kafka',
      });
      await relay.kill('SIGTERM');
      for (let k = 0; k < kills; k++) {
        // A random send of this relay's first few is its last.
        const crashAfter = String(1 + Math.floor(Math.random() * 3));
        relay = relay.restart({ ...CLAIMS, RELAY_CRASH_AFTER_SENDS: crashAfter });
        const child = relay.child;
        await waitUntil(() => child.signalCode !== null || child.exitCode !== null, {
          timeoutMs: 300_000,
          what: `relay ${k + 1} to crash after ${crashAfter} send(s)`,
        });
        if (child.signalCode !== 'SIGKILL')
          throw new Error(`relay ${k + 1} exited otherwise (${child.exitCode ?? child.signalCode})`);
        faulted();
        injected += 1;
        if (k === 0) await startRest();
      }
      relay = relay.restart(CLAIMS);
    });
    // Each crash left an acknowledged batch unmarked: it must have gone out again.
    if (result.verdict.redelivered < injected) {
      result.verdict.discrepancies += 1;
      result.verdict.notes.push(
        `${injected} relays died after a send, but only ${result.verdict.redelivered} events went out twice`,
      );
    }
    return result;
  },
};
