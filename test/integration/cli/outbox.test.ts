// Invariant: an operator sees from `trapeze outbox` what holds publication back (backlog, dead
// letters with their reason and the rows waiting behind them, paused topics, the oldest blocking
// transaction on PostgreSQL) and can re-drive a parked row and pause or resume a topic, on either
// store, without event data ever being printed; --json gives the same facts, an unknown row exits 4
// and a usage error 64.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { appendEvent } from '../../../outbox/append';
import { openOutboxStore } from '../../../outbox/store';
import { migrate, outboxMigrations } from '../../../platform/migrations';
import { bothStores } from '../../databases';
import { json, trapeze } from './trapeze';

for (const { kind, create } of bothStores) {
  describe(`outbox CLI on ${kind}`, () => {
    test('lists dead letters with their reason, re-drives one, pauses and resumes a topic', async () => {
      const testDb = await create();
      const db = testDb.open();
      try {
        await migrate(db, outboxMigrations);
        const store = openOutboxStore(db);
        const orderId = `order-${randomUUID()}`;
        const secret = 'card 4111 1111 1111 1111';
        const append = (type: string) =>
          db.transaction((tx) =>
            appendEvent(tx, {
              context: 'orders',
              type,
              schemaVersion: 1,
              orderId,
              causationId: `order-${orderId}/${type}`,
              correlationId: `order-${orderId}`,
              data: { orderId, secret },
            }),
          );
        const parked = await append('OrderSubmitted');
        await append('OrderConfirmed');
        const claim = await store.claim({ relayId: 'r1', limit: 1, maxBytes: 1 << 20, leaseMs: 60_000 });
        await store.park(claim.token, claim.rows[0]!.seq, 'MESSAGE_TOO_LARGE: over max.message.bytes');
        await store.release(claim.token);

        const run = async (...argv: string[]) => {
          const r = await trapeze(['outbox', ...argv], { env: { DATABASE_URL: testDb.url }, database: () => db });
          assert.ok(!`${r.out}${r.err}`.includes(secret), 'event data printed');
          return { code: r.code, out: [r.out, r.err].filter(Boolean).join('\n'), stdout: r.out };
        };
        const status = await run('status');
        assert.equal(status.code, 0);
        assert.match(status.out, /backlog: 2 unsent row/);
        assert.match(status.out, /dead letters: 1 parked, 1 row\(s\) waiting behind them/);
        if (kind === 'postgres') assert.match(status.out, /oldest blocking transaction: /);

        const letters = await run('dead-letters');
        assert.match(letters.out, new RegExp(`${parked.id}.*${orderId}.*OrderSubmitted.*1 waiting.*MESSAGE_TOO_LARGE`));
        assert.match(letters.out, /1 dead letter\(s\)/);

        const shape = await run('status', '--json');
        assert.equal(shape.code, 0);
        const parsed = json<{ backlog: number; deadLetters: { parked: number; waiting: number }; paused: unknown[] }>({
          ...shape,
          out: shape.stdout,
          err: '',
        });
        assert.deepEqual([parsed.backlog, parsed.deadLetters, parsed.paused], [2, { parked: 1, waiting: 1 }, []]);
        const listed = await run('dead-letters', '--json');
        assert.deepEqual(
          json<{ deadLetters: Array<{ id: string }> }>({ ...listed, out: listed.stdout, err: '' }).deadLetters.map((l) => l.id),
          [parked.id],
        );

        assert.equal((await run('redrive', 'no-such-event')).code, 4);
        assert.equal((await run('redrive', parked.id)).code, 0);
        assert.match((await run('dead-letters')).out, /0 dead letter\(s\)/);

        assert.equal((await run('pause', 'trapeze.orders', 'incident', '42')).code, 0);
        assert.match((await run('status')).out, /paused topics: trapeze.orders \(incident 42\)/);
        assert.equal((await run('resume', 'trapeze.orders')).code, 0);
        assert.match((await run('status')).out, /paused topics: none/);
        assert.equal((await run('bogus')).code, 64);
        assert.equal((await run('pause', 'trapeze.orders')).code, 64, 'a pause needs a reason');
      } finally {
        await db.close();
        await testDb.drop();
      }
    });
  });
}
