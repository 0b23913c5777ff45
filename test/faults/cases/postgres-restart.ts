import type { CaseResult, FaultCase } from '../case';
import { ownPostgres } from '../servers';
import { openWorld, type World } from '../world';
import { restartUnderBurst } from './server-restart';

/**
 * Case 6: the participants' PostgreSQL store restarts mid-burst, first as `pg_ctl restart -m fast`
 * does (SIGINT: sessions are cut, transactions in flight roll back), then as `-m immediate` does
 * (SIGQUIT: no checkpoint, crash recovery on start; --short does only this one). The cluster is
 * the case's own (initdb in a temp directory, its own port); the shared one is never touched.
 * Activities whose transaction was cut fail and are retried against the participants' idempotency
 * keys; the pool replaces the dead connections (before the fix in platform/database.ts, a
 * connection cut mid-transaction crashed the saga worker). The relay is not running in this world
 * yet: its outbox rows are judged in place.
 */
export const postgresRestart: FaultCase = {
  name: 'PostgreSQL restart (fast, immediate)',
  async open(label) {
    const postgres = await ownPostgres(label);
    try {
      return await openWorld(label, { postgres });
    } catch (err) {
      await postgres.remove();
      throw err;
    }
  },
  async run(world: World, { sagas, short }): Promise<CaseResult> {
    const server = world.own.postgres;
    if (!server) throw new Error('postgres-restart runs only on its own cluster');
    return restartUnderBurst(world, server, { sagas, short, signals: ['SIGINT', 'SIGQUIT'], downMs: short ? 1_000 : 3_000 });
  },
};
