// Invariant: PostgreSQL dropping a connection in the middle of a transaction (a restart, a
// failover, an admin's pg_terminate_backend) fails that transaction and nothing else: the process
// lives on and the next transaction runs on a fresh connection. Found by the fault suite's
// PostgreSQL restart case, where the saga worker died of an unhandled 'error' event.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from 'pg';
import type { Database } from '../../../platform/database';
import { postgresDatabase, type TestDatabase } from '../../databases';
import { waitUntil } from '../../wait';

let store: TestDatabase;
let db: Database;
let admin: Client;

before(async () => {
  store = await postgresDatabase();
  db = store.open();
  admin = new Client({ connectionString: store.url });
  await admin.connect();
});

after(async () => {
  await admin.end();
  await db.close();
  await store.drop();
});

test('a connection killed between two statements of a transaction fails only that transaction', async () => {
  const outcome = db.transaction(async (tx) => {
    const row = await tx.get<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pid = Number(row?.pid);
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    // The backend is gone; the client hears of it while no statement of ours is running.
    await waitUntil(
      async () =>
        (await admin.query<{ n: string }>('SELECT COUNT(*) AS n FROM pg_stat_activity WHERE pid = $1', [pid])).rows[0]?.n === '0',
      { what: `backend ${pid} to exit` },
    );
    await tx.get('SELECT 1');
  });
  await assert.rejects(outcome);
  // The process is alive and the pool hands out a working connection.
  assert.equal(await db.transaction(async (tx) => Number((await tx.get<{ one: number }>('SELECT 1 AS one'))?.one)), 1);
});
