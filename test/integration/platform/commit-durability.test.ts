// Invariant: a connection waits for the disk at every commit unless opened for a process whose
// writes are all redone if lost (the relay); that one connection only, every other keeps waiting.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openDatabase, type Database } from '../../../platform/database';
import { bothStores, type TestDatabase } from '../../databases';

for (const { kind, create } of bothStores) {
  describe(`commit durability on ${kind}`, () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await create();
    });
    after(async () => {
      await testDb.drop();
    });

    // SQLite's synchronous: 2 = FULL (the WAL is synced at every commit), 1 = NORMAL.
    const setting = async (sql: Pick<Database, 'get'>) =>
      kind === 'sqlite'
        ? String((await sql.get<{ synchronous: number }>('PRAGMA synchronous'))?.synchronous)
        : String((await sql.get<{ synchronous_commit: string }>('SHOW synchronous_commit'))?.synchronous_commit);
    const inTransaction = (db: Database) => db.transaction((tx) => setting(tx));

    test('by default every commit waits for the disk; a relay connection does not, and only it', async () => {
      const durable = openDatabase(testDb.url);
      const relay = openDatabase(testDb.url, { commitsWaitForDisk: false });
      const other = openDatabase(testDb.url);
      try {
        const [waits, skips] = kind === 'sqlite' ? ['2', '1'] : ['on', 'off'];
        assert.equal(await setting(durable), waits);
        assert.equal(await inTransaction(durable), waits);
        assert.equal(await setting(relay), skips);
        assert.equal(await inTransaction(relay), skips);
        assert.equal(await setting(other), waits, 'a connection opened after the relay still waits');
        await relay.run('CREATE TABLE written (n INTEGER)');
        await relay.transaction((tx) => tx.run('INSERT INTO written (n) VALUES (1)'));
        assert.equal(Number((await other.get<{ n: number }>('SELECT count(*) AS n FROM written'))?.n), 1);
      } finally {
        for (const db of [durable, relay, other]) await db.close();
      }
    });
  });
}
