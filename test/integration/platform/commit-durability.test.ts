// Invariant: how a connection's commits reach the disk is what its URL and role ask, never less:
// SQLite commits are synced at every commit when the URL says `?synchronous=full` (WAL's NORMAL
// otherwise), PostgreSQL's wait for the WAL flush; only a connection opened for a process whose
// writes are all redone if lost (the relay) skips the wait, and only that one connection. A value
// the URL cannot mean is refused with its name rather than ignored.
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

    test('commits wait for the disk as the URL asks; a relay connection does not, and only it', async () => {
      const durableUrl = kind === 'sqlite' ? `${testDb.url}?synchronous=full` : testDb.url;
      const durable = openDatabase(durableUrl);
      const relay = openDatabase(durableUrl, { commitsWaitForDisk: false });
      const other = openDatabase(durableUrl);
      try {
        const [waits, skips] = kind === 'sqlite' ? ['2', '1'] : ['on', 'off'];
        assert.equal(await setting(durable), waits);
        assert.equal(await inTransaction(durable), waits);
        assert.equal(await setting(relay), skips);
        assert.equal(await inTransaction(relay), skips);
        assert.equal(await setting(other), waits, 'a connection opened after the relay still waits');
        // The same file whatever the URL asks of its commits.
        await relay.run('CREATE TABLE written (n INTEGER)');
        await relay.transaction((tx) => tx.run('INSERT INTO written (n) VALUES (1)'));
        assert.equal(Number((await other.get<{ n: number }>('SELECT count(*) AS n FROM written'))?.n), 1);
      } finally {
        for (const db of [durable, relay, other]) await db.close();
      }
    });

    if (kind === 'sqlite') {
      test("a SQLite URL without a setting gets WAL's NORMAL; one it cannot mean is refused by name", async () => {
        const plain = openDatabase(testDb.url);
        try {
          assert.equal(await setting(plain), '1');
        } finally {
          await plain.close();
        }
        assert.throws(
          () => openDatabase(`${testDb.url}?synchronous=sometimes`),
          /synchronous=sometimes is not one of normal, full/,
        );
      });
    }
  });
}
