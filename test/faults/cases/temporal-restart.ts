import type { CaseResult, FaultCase } from '../case';
import { ownTemporal } from '../servers';
import { openWorld, type World } from '../world';
import { restartUnderBurst } from './server-restart';

/**
 * Case 2: the Temporal dev server stops mid-burst and restarts on its persisted database, first
 * with SIGTERM (a clean shutdown), then with SIGKILL (no shutdown at all: whatever the SQLite file
 * holds is what survives; --short does only this one). The server is the case's own, on its own
 * ports and file; the shared one is never touched. The saga worker (its own process) and the warehouse keep running through the
 * outage, so activities complete against a server that is gone and polls fail until it is back.
 */
export const temporalRestart: FaultCase = {
  name: 'Temporal server restart (TERM, KILL)',
  async open(label) {
    const server = await ownTemporal(label);
    try {
      return await openWorld(label, { temporal: server });
    } catch (err) {
      await server.remove();
      throw err;
    }
  },
  async run(world: World, { sagas, short }): Promise<CaseResult> {
    const server = world.own.temporal;
    if (!server) throw new Error('temporal-restart runs only on its own server');
    return restartUnderBurst(world, server, { sagas, short, signals: ['SIGTERM', 'SIGKILL'], downMs: short ? 2_000 : 5_000 });
  },
};
