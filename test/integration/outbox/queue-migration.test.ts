// Invariant: upgrading to the unsent queue (migration outbox/005) loses no event and publishes no
// sent one again: every unsent row of an existing outbox is queued, in its commit order, every sent
// row keeps its sent time, and a row inserted by any writer afterwards (an older release's, a seed)
// is queued or recorded as sent by the database itself.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { NewEvent } from '../../../events/envelope';
import { appendEvent } from '../../../outbox/append';
import { openOutboxStore } from '../../../outbox/store';
import type { Database } from '../../../platform/database';
import { migrate, outboxMigrations } from '../../../platform/migrations';
import { bothStores, type TestDatabase } from '../../databases';

const event = (orderId: string, type: string): NewEvent => ({
  context: 'orders',
  type,
  schemaVersion: 1,
  orderId,
  causationId: `order-${orderId}/${type}/${randomUUID()}`,
  correlationId: `order-${orderId}`,
  data: {},
});

const QUEUE = 'outbox/005-unsent-queue';

for (const { kind, create } of bothStores) {
  describe(`the unsent queue's migration on ${kind}`, () => {
    let testDb: TestDatabase;
    let db: Database;

    before(async () => {
      testDb = await create();
      db = testDb.open();
    });
    after(async () => {
      await db.close();
      await testDb.drop();
    });

    test('unsent rows of an existing outbox are queued in order; sent rows keep their time', async () => {
      const earlier = outboxMigrations.slice(
        0,
        outboxMigrations.findIndex((m) => m.id === QUEUE),
      );
      await migrate(db, earlier);
      const a = randomUUID();
      const b = randomUUID();
      await db.transaction(async (tx) => {
        for (const type of ['A1', 'A2', 'A3']) await appendEvent(tx, event(a, type));
      });
      await db.transaction(async (tx) => {
        for (const type of ['B1', 'B2']) await appendEvent(tx, event(b, type));
      });
      // The release before marked rows sent in place.
      const sentAt = Date.now() - 60_000;
      await db.run("UPDATE outbox SET sent_at = ? WHERE type IN ('A1', 'A2')", [sentAt]);

      await migrate(db, outboxMigrations);
      await migrate(db, outboxMigrations); // and again: nothing changes

      const queued = await db.all<{ type: string }>(
        'SELECT o.type FROM outbox_queue q JOIN outbox o ON o.seq = q.seq ORDER BY q.seq',
      );
      assert.deepEqual(
        queued.map((r) => r.type),
        ['A3', 'B1', 'B2'],
      );
      const sent = await db.all<{ type: string; sent_at: number }>(
        'SELECT o.type, s.sent_at FROM outbox_sent s JOIN outbox o ON o.seq = s.seq ORDER BY s.seq',
      );
      assert.deepEqual(
        sent.map((r) => [r.type, Number(r.sent_at)]),
        [
          ['A1', sentAt],
          ['A2', sentAt],
        ],
      );

      // Writers that do not go through appendEvent: an older release mid-rollout, a seed.
      await db.run(
        "INSERT INTO outbox (id, topic, msg_key, type, envelope, created_at) VALUES (?, 'trapeze.orders', ?, 'B3', '{}', ?)",
        [randomUUID(), b, Date.now()],
      );
      await db.run(
        "INSERT INTO outbox (id, topic, msg_key, type, envelope, created_at, sent_at) VALUES (?, 'trapeze.orders', ?, 'Seeded', '{}', ?, ?)",
        [randomUUID(), b, Date.now(), sentAt],
      );

      const store = openOutboxStore(db);
      assert.equal(await store.backlog(), 4);
      const { token, rows } = await store.claim({ relayId: 'r1', limit: 100, maxBytes: 1 << 20, leaseMs: 60_000 });
      assert.deepEqual(
        rows.map((r) => r.type),
        ['A3', 'B1', 'B2', 'B3'],
      );
      assert.equal(
        await store.markSent(
          token,
          rows.map((r) => r.seq),
        ),
        4,
      );
      assert.equal(await store.backlog(), 0);
      assert.equal(await store.prunePending(Date.now() + 1), 7);
      assert.equal(await store.pruneSent(sentAt + 1), 3, 'the rows sent before the upgrade and the seeded one');
      assert.equal(Number((await db.get<{ n: number }>('SELECT count(*) AS n FROM outbox'))?.n), 4);
    });
  });
}
