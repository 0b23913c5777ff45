// Invariant: both outbox stores (SQLite and PostgreSQL) hand out rows in append order, never hand
// a key's later row to anyone while an earlier one is unsent elsewhere (claimed, waiting for a
// retry, or not yet committed), give back rows whose claim lapsed or failed, obey the per-topic
// kill switch stored in the database, and bound a batch by rows and bytes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client } from 'pg';
import type { NewEvent } from '../../../events/envelope';
import { appendEvent, appendEvents } from '../../../outbox/append';
import type { Database } from '../../../platform/database';
import { migrate, outboxMigrations } from '../../../platform/migrations';
import { claimScriptOnPostgres } from '../../../outbox/postgres-store';
import { openOutboxStore, type OutboxStore } from '../../../outbox/store';
import { bothStores, type TestDatabase } from '../../databases';
import { postgresUrl } from '../../env';

const event = (orderId: string, type: string, context: NewEvent['context'] = 'orders', data: unknown = {}): NewEvent => ({
  context,
  type,
  schemaVersion: 1,
  orderId,
  causationId: `order-${orderId}/${type}/${randomUUID()}`,
  correlationId: `order-${orderId}`,
  data,
});

/** The part of an EXPLAIN (FORMAT JSON) node the plan test reads. */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

// Each relay's latest claim token, so that a test reads as relays claiming and marking.
const tokens = new Map<string, string>();
const claim = async (
  store: OutboxStore,
  relayId: string,
  limit = 100,
  extra: { leaseMs?: number; now?: number; maxBytes?: number } = {},
) => {
  const claimed = await store.claim({
    relayId,
    limit,
    maxBytes: extra.maxBytes ?? 1 << 20,
    leaseMs: extra.leaseMs ?? 60_000,
    now: extra.now,
  });
  tokens.set(relayId, claimed.token);
  return claimed.rows;
};
const markSent = (store: OutboxStore, relayId: string, seqs: number[]) => store.markSent(tokens.get(relayId) ?? '', seqs);

for (const { kind, create } of bothStores) {
  describe(`outbox store on ${kind}`, () => {
    let testDb: TestDatabase;
    let db: Database;
    let store: OutboxStore;

    before(async () => {
      testDb = await create();
      db = testDb.open();
      if (kind === 'postgres') {
        // Two processes starting at once must not trip over each other's migrations (the advisory
        // lock). SQLite serialises them by BEGIN IMMEDIATE; two connections in ONE process would
        // block each other's synchronous busy wait, so that case is not run here.
        const second = testDb.open();
        await Promise.all([migrate(db, outboxMigrations), migrate(second, outboxMigrations)]);
        await second.close();
      }
      await migrate(db, outboxMigrations); // and running them again changes nothing
      store = openOutboxStore(db);
    });
    after(async () => {
      await db.close();
      await testDb.drop();
    });

    /** Whether a row is listed as unsent and as sent (each 0 or 1: never both). */
    async function bookkeeping(seq: number): Promise<{ queued: number; sent: number }> {
      const row = await db.get<{ queued: number; sent: number }>(
        `SELECT (SELECT count(*) FROM outbox_queue WHERE seq = ?) AS queued, (SELECT count(*) FROM outbox_sent WHERE seq = ?) AS sent`,
        [seq, seq],
      );
      return { queued: Number(row?.queued), sent: Number(row?.sent) };
    }

    // Each test leaves nothing unsent behind, so the next one starts from an empty queue.
    async function drain(relayId = 'drain'): Promise<void> {
      for (let rows = await claim(store, relayId, 1000); rows.length > 0; rows = await claim(store, relayId, 1000)) {
        await markSent(
          store,
          relayId,
          rows.map((r) => r.seq),
        );
      }
      assert.equal(await store.backlog(), 0);
    }

    test('rows come out in append order and, once marked sent, never again', async () => {
      const order = randomUUID();
      for (const type of ['A', 'B', 'C']) await db.transaction((tx) => appendEvent(tx, event(order, type)));
      assert.equal(await store.backlog(), 3);
      assert.ok((await store.oldestUnsentAgeMs()) >= 0);
      const rows = await claim(store, 'r1');
      assert.deepEqual(
        rows.map((r) => r.type),
        ['A', 'B', 'C'],
      );
      assert.equal(rows[0]?.msgKey, order);
      assert.equal(rows[0]?.topic, 'trapeze.orders');
      assert.equal(
        await markSent(
          store,
          'r1',
          rows.map((r) => r.seq),
        ),
        3,
      );
      assert.deepEqual(await claim(store, 'r1'), []);
      assert.equal(await store.backlog(), 0);
      assert.equal(await store.oldestUnsentAgeMs(), 0);
    });

    test('an append retried under the same idempotency key is one row', async () => {
      const e = event(randomUUID(), 'OrderSubmitted');
      await db.transaction((tx) => appendEvent(tx, e));
      await db.transaction((tx) => appendEvent(tx, e));
      assert.equal(await store.backlog(), 1);
      await drain();
    });

    test('events appended together keep their order across statements; a repeated one is still one row', async () => {
      const order = randomUUID();
      const events = Array.from({ length: 120 }, (_, i) => event(order, `S${i}`));
      const envelopes = await db.transaction((tx) => appendEvents(tx, events));
      assert.deepEqual(
        envelopes.map((e) => e.type),
        events.map((e) => e.type),
      );
      await db.transaction((tx) => appendEvents(tx, [events[7]!, event(order, 'Last')]));
      assert.equal(await store.backlog(), 121);
      const first = await claim(store, 'r1', 100);
      await markSent(
        store,
        'r1',
        first.map((r) => r.seq),
      );
      const rows = [...first, ...(await claim(store, 'r1', 100))];
      assert.deepEqual(
        rows.map((r) => r.type),
        [...events.map((e) => e.type), 'Last'],
      );
      assert.deepEqual(
        rows.map((r) => r.id),
        [...envelopes.map((e) => e.id), rows[120]!.id],
      );
      await markSent(
        store,
        'r1',
        rows.slice(100).map((r) => r.seq),
      );
      assert.equal(await store.backlog(), 0);
    });

    if (kind === 'sqlite')
      test("an acknowledged batch is marked sent by the next claim, which then takes its key's next rows; a lapsed one marks nothing", async () => {
        const k = randomUUID();
        for (const type of ['A', 'B', 'C']) await db.transaction((tx) => appendEvent(tx, event(k, type)));
        const now = Date.now();
        const a = await store.claim({ relayId: 'r1', limit: 1, maxBytes: 1 << 20, leaseMs: 60_000, now });
        const sentAt = now - 5;
        const b = await store.claim({
          relayId: 'r1',
          limit: 1,
          maxBytes: 1 << 20,
          leaseMs: 1_000,
          now,
          acknowledged: [{ token: a.token, sentAt }],
        });
        assert.deepEqual(b.marked, [1]);
        assert.deepEqual(
          b.rows.map((r) => r.type),
          ['B'],
        );
        const sent = await db.get<{ sent_at: number }>('SELECT sent_at FROM outbox WHERE seq = ?', [a.rows[0]!.seq]);
        assert.equal(Number(sent?.sent_at), sentAt);
        // B's claim lapses and r2 takes B again: r1's late acknowledgement of B marks nothing.
        const again = await claim(store, 'r2', 100, { now: now + 1_001 });
        assert.deepEqual(
          again.map((r) => r.type),
          ['B', 'C'],
        );
        const late = await store.claim({
          relayId: 'r1',
          limit: 10,
          maxBytes: 1 << 20,
          leaseMs: 60_000,
          now: now + 1_001,
          acknowledged: [{ token: b.token, sentAt }],
        });
        assert.deepEqual(late.marked, [0]);
        assert.deepEqual(late.rows, []);
        await markSent(
          store,
          'r2',
          again.map((r) => r.seq),
        );
        assert.equal(await store.backlog(), 0);
      });

    test("a key's later rows wait while an earlier one is held by another relay; other keys go", async () => {
      const [k1, k2] = [randomUUID(), randomUUID()];
      await db.transaction(async (tx) => {
        await appendEvent(tx, event(k1, 'A'));
        await appendEvent(tx, event(k2, 'A'));
        await appendEvent(tx, event(k1, 'B'));
        await appendEvent(tx, event(k2, 'B'));
      });
      const first = await claim(store, 'r1', 1);
      assert.deepEqual(
        first.map((r) => [r.msgKey, r.type]),
        [[k1, 'A']],
      );
      const second = await claim(store, 'r2');
      assert.deepEqual(
        second.map((r) => [r.msgKey, r.type]),
        [
          [k2, 'A'],
          [k2, 'B'],
        ],
      );
      await markSent(
        store,
        'r2',
        second.map((r) => r.seq),
      );
      assert.deepEqual(await claim(store, 'r2'), [], 'k1/B must wait for k1/A');
      await markSent(
        store,
        'r1',
        first.map((r) => r.seq),
      );
      const last = await claim(store, 'r2');
      assert.deepEqual(
        last.map((r) => [r.msgKey, r.type]),
        [[k1, 'B']],
      );
      await markSent(
        store,
        'r2',
        last.map((r) => r.seq),
      );
    });

    test('a failed batch comes back after its retry time and blocks its keys until then', async () => {
      const k = randomUUID();
      for (const type of ['A', 'B']) await db.transaction((tx) => appendEvent(tx, event(k, type)));
      const rows = await claim(store, 'r1', 1);
      const now = Date.now();
      await store.recordFailure(
        tokens.get('r1') ?? '',
        rows.map((r) => r.seq),
        'broker down',
        5_000,
      );
      assert.deepEqual(await claim(store, 'r2', 100, { now: now + 1_000 }), [], 'neither A (backing off) nor B (behind A)');
      const retried = await claim(store, 'r2', 100, { now: now + 6_000 });
      assert.deepEqual(
        retried.map((r) => r.type),
        ['A', 'B'],
      );
      assert.equal(retried[0]?.attempts, 1);
      await markSent(
        store,
        'r2',
        retried.map((r) => r.seq),
      );
    });

    test('a lapsed claim is taken over, and the old holder can no longer mark it', async () => {
      await db.transaction((tx) => appendEvent(tx, event(randomUUID(), 'A')));
      const now = Date.now();
      const held = await claim(store, 'dead', 100, { leaseMs: 1_000, now });
      assert.equal(held.length, 1);
      assert.deepEqual(await claim(store, 'alive', 100, { now: now + 500 }), []);
      const taken = await claim(store, 'alive', 100, { now: now + 1_001 });
      assert.deepEqual(
        taken.map((r) => r.seq),
        held.map((r) => r.seq),
      );
      assert.equal(
        await markSent(
          store,
          'dead',
          held.map((r) => r.seq),
        ),
        0,
      );
      assert.deepEqual(await bookkeeping(held[0]!.seq), { queued: 1, sent: 0 }, 'the stale mark left the row queued');
      assert.equal(
        await markSent(
          store,
          'alive',
          taken.map((r) => r.seq),
        ),
        1,
      );
      assert.deepEqual(await bookkeeping(held[0]!.seq), { queued: 0, sent: 1 });
    });

    test('a batch marked sent leaves no queue row and keeps its sent time; the outbox agrees', async () => {
      const order = randomUUID();
      await db.transaction(async (tx) => {
        for (const type of ['A', 'B', 'C']) await appendEvent(tx, event(order, type));
      });
      const rows = await claim(store, 'r1');
      const seqs = rows.map((r) => r.seq);
      for (const seq of seqs) assert.deepEqual(await bookkeeping(seq), { queued: 1, sent: 0 });
      // A failed try gives the rows back still queued.
      await store.recordFailure(tokens.get('r1')!, seqs, 'broker down', 0);
      for (const seq of seqs) assert.deepEqual(await bookkeeping(seq), { queued: 1, sent: 0 });
      const again = await claim(store, 'r1');
      assert.deepEqual(
        again.map((r) => r.seq),
        seqs,
      );
      const sentAt = Date.now() - 5;
      assert.equal(await store.markSent(tokens.get('r1')!, seqs, { sentAt }), 3);
      for (const seq of seqs) assert.deepEqual(await bookkeeping(seq), { queued: 0, sent: 1 });
      const times = await db.all<{ sent_at: number }>(
        `SELECT sent_at FROM outbox_sent WHERE seq IN (${seqs.map(() => '?').join(', ')})`,
        seqs,
      );
      assert.deepEqual(
        times.map((t) => Number(t.sent_at)),
        [sentAt, sentAt, sentAt],
      );
      if (kind === 'postgres') {
        // The wide row is written once, by its append: the mark no longer rewrites it.
        const wide = await db.all<{ sent_at: number | null }>(`SELECT sent_at FROM outbox WHERE msg_key = ?`, [order]);
        assert.deepEqual(wide, [{ sent_at: null }, { sent_at: null }, { sent_at: null }]);
      }
      assert.equal(await store.backlog(), 0);
    });

    test('a released claim is handed out again at once', async () => {
      await db.transaction((tx) => appendEvent(tx, event(randomUUID(), 'A')));
      const rows = await claim(store, 'r1');
      await store.release(tokens.get('r1') ?? '');
      const again = await claim(store, 'r2');
      assert.deepEqual(
        again.map((r) => r.seq),
        rows.map((r) => r.seq),
      );
      await markSent(
        store,
        'r2',
        again.map((r) => r.seq),
      );
    });

    test('a paused topic keeps its events in the outbox until resumed; other topics flow', async () => {
      const k = randomUUID();
      await db.transaction(async (tx) => {
        await appendEvent(tx, event(k, 'PaymentAuthorized', 'payments'));
        await appendEvent(tx, event(k, 'OrderSubmitted', 'orders'));
      });
      await store.pause('trapeze.payments', 'incident 42');
      assert.deepEqual(
        (await store.paused()).map((p) => [p.topic, p.reason]),
        [['trapeze.payments', 'incident 42']],
      );
      const flowing = await claim(store, 'r1');
      assert.deepEqual(
        flowing.map((r) => r.topic),
        ['trapeze.orders'],
      );
      await markSent(
        store,
        'r1',
        flowing.map((r) => r.seq),
      );
      assert.deepEqual(await claim(store, 'r1'), []);
      assert.equal(await store.backlog(), 1);
      await store.resume('trapeze.payments');
      assert.deepEqual(await store.paused(), []);
      const resumed = await claim(store, 'r1');
      assert.deepEqual(
        resumed.map((r) => r.type),
        ['PaymentAuthorized'],
      );
      await markSent(
        store,
        'r1',
        resumed.map((r) => r.seq),
      );
    });

    test('a batch is bounded by rows and by bytes, and one row always fits', async () => {
      const k = randomUUID();
      await db.transaction(async (tx) => {
        for (let i = 0; i < 5; i++) await appendEvent(tx, event(k, `T${i}`, 'orders', { pad: 'x'.repeat(1_000) }));
      });
      const two = await claim(store, 'r1', 2);
      assert.equal(two.length, 2);
      await markSent(
        store,
        'r1',
        two.map((r) => r.seq),
      );
      await drain('r1');
      await db.transaction(async (tx) => {
        for (let i = 0; i < 5; i++) await appendEvent(tx, event(k, `U${i}`, 'orders', { pad: 'x'.repeat(1_000) }));
      });
      const byBytes = await claim(store, 'r2', 100, { maxBytes: 3_500 });
      assert.equal(byBytes.length, 2);
      await markSent(
        store,
        'r2',
        byBytes.map((r) => r.seq),
      );
      await drain('r2');
      await db.transaction((tx) => appendEvent(tx, event(k, 'V', 'orders', { pad: 'x'.repeat(5_000) })));
      const big = await claim(store, 'r3', 100, { maxBytes: 10 });
      assert.equal(big.length, 1);
      await markSent(
        store,
        'r3',
        big.map((r) => r.seq),
      );
    });

    test('sent rows older than the retention are pruned; unsent ones never', async () => {
      await db.transaction((tx) => appendEvent(tx, event(randomUUID(), 'A')));
      await drain();
      await db.transaction((tx) => appendEvent(tx, event(randomUUID(), 'B')));
      assert.ok((await store.pruneSent(Date.now() + 1)) >= 1);
      assert.equal(await store.backlog(), 1);
      await drain();
    });

    test('concurrent relays never share a row and each key goes out in order', async () => {
      const keys: string[] = Array.from({ length: 20 }, () => randomUUID());
      const expected = new Map(keys.map((k) => [k, [] as string[]]));
      for (let i = 0; i < 10; i++) {
        await db.transaction(async (tx) => {
          for (const k of keys) {
            const env = await appendEvent(tx, event(k, `T${i}`));
            expected.get(k)?.push(env.id);
          }
        });
      }
      // "published" is recorded before the sent mark is written: a claim that sees a row sent
      // must find it published already.
      const published = new Map(keys.map((k) => [k, [] as string[]]));
      const handedOut = new Set<string>();
      const violations: string[] = [];
      const relay = async (relayId: string) => {
        for (let idle = 0; idle < 20;) {
          const rows = await claim(store, relayId, 7);
          if (rows.length === 0) {
            idle += 1;
            await new Promise((r) => setImmediate(r));
            continue;
          }
          idle = 0;
          for (const row of rows) {
            if (handedOut.has(row.id)) violations.push(`${row.id} handed out twice`);
            handedOut.add(row.id);
            const sent = published.get(row.msgKey) ?? [];
            const position = expected.get(row.msgKey)?.indexOf(row.id) ?? -1;
            if (position !== sent.length) violations.push(`${row.msgKey}: row ${position} claimed with ${sent.length} published`);
            sent.push(row.id);
          }
          await markSent(
            store,
            relayId,
            rows.map((r) => r.seq),
          );
        }
      };
      await Promise.all(['a', 'b', 'c', 'd'].map(relay));
      assert.deepEqual(violations, []);
      assert.deepEqual(published, expected);
      assert.equal(await store.backlog(), 0);
    });

    test('a stale batch of the same relay cannot mark the rows its newer batch re-claimed', async () => {
      await db.transaction((tx) => appendEvent(tx, event(randomUUID(), 'A')));
      const now = Date.now();
      const stale = await store.claim({ relayId: 'r1', limit: 100, maxBytes: 1 << 20, leaseMs: 1_000, now });
      assert.equal(stale.rows.length, 1);
      // The same relay claims again after its lease lapsed: a newer batch with the same rows.
      const fresh = await store.claim({ relayId: 'r1', limit: 100, maxBytes: 1 << 20, leaseMs: 60_000, now: now + 1_001 });
      assert.deepEqual(
        fresh.rows.map((r) => r.seq),
        stale.rows.map((r) => r.seq),
      );
      const seqs = stale.rows.map((r) => r.seq);
      assert.equal(await store.markSent(stale.token, seqs), 0, 'the stale batch marks nothing');
      await store.recordFailure(stale.token, seqs, 'stale failure', 60_000);
      assert.equal(await store.park(stale.token, seqs[0]!, 'stale park'), false);
      assert.equal(await store.markSent(fresh.token, seqs), 1);
      const row = await db.get<{ attempts: number; parked_at: number | null }>(
        'SELECT attempts, parked_at FROM outbox WHERE seq = ?',
        [seqs[0]!],
      );
      assert.deepEqual({ attempts: Number(row?.attempts), parked: row?.parked_at ?? null }, { attempts: 0, parked: null });
    });

    test("leases run on the database's clock: a relay whose clock runs ahead takes no live claim", async () => {
      await db.transaction((tx) => appendEvent(tx, event(randomUUID(), 'A')));
      const held = await claim(store, 'r1', 100, { leaseMs: 60_000 });
      assert.equal(held.length, 1);
      const realNow = Date.now;
      Date.now = () => realNow() + 120_000; // r2's host clock is two minutes fast
      try {
        assert.deepEqual(await claim(store, 'r2'), []);
      } finally {
        Date.now = realNow;
      }
      await markSent(
        store,
        'r1',
        held.map((r) => r.seq),
      );
    });

    test('a parked row holds back the later rows of its key, visibly, until re-driven; other keys flow', async () => {
      const [k1, k2] = [randomUUID(), randomUUID()];
      const first = await db.transaction((tx) => appendEvent(tx, event(k1, 'A')));
      await db.transaction(async (tx) => {
        await appendEvent(tx, event(k1, 'B'));
        await appendEvent(tx, event(k2, 'A'));
      });
      const { token, rows } = await store.claim({ relayId: 'r1', limit: 1, maxBytes: 1 << 20, leaseMs: 60_000 });
      assert.equal(rows[0]?.id, first.id);
      assert.equal(await store.park(token, rows[0].seq, 'MESSAGE_TOO_LARGE: 2 MB'), true);
      await store.release(token);
      const flowing = await claim(store, 'r1');
      assert.deepEqual(
        flowing.map((r) => [r.msgKey, r.type]),
        [[k2, 'A']],
        "k1's B waits behind the parked A",
      );
      await markSent(
        store,
        'r1',
        flowing.map((r) => r.seq),
      );
      assert.deepEqual(await store.deadLetterCounts(), { parked: 1, waiting: 1 });
      const [letter] = await store.deadLetters();
      assert.deepEqual(
        { id: letter?.id, key: letter?.msgKey, reason: letter?.reason, waiting: letter?.waiting, attempts: letter?.attempts },
        { id: first.id, key: k1, reason: 'MESSAGE_TOO_LARGE: 2 MB', waiting: 1, attempts: 1 },
      );
      assert.equal(await store.redrive('no-such-event'), false);
      assert.equal(await store.redrive(first.id), true);
      assert.deepEqual(await store.deadLetterCounts(), { parked: 0, waiting: 0 });
      const redriven = await claim(store, 'r1');
      assert.deepEqual(
        redriven.map((r) => [r.msgKey, r.type]),
        [
          [k1, 'A'],
          [k1, 'B'],
        ],
      );
      await markSent(
        store,
        'r1',
        redriven.map((r) => r.seq),
      );
    });

    test('a backlog of sent rows larger than one prune batch is pruned in one pass', async () => {
      await db.transaction(async (tx) => {
        for (let i = 0; i < 250; i++) await appendEvent(tx, event(randomUUID(), 'A'));
      });
      await drain();
      const horizon = Date.now() + 1;
      assert.ok((await store.prunePending(horizon)) >= 250);
      const batches: number[] = [];
      const pruned = await store.pruneSent(horizon, 100, (n) => batches.push(n));
      assert.ok(pruned >= 250, `pruned ${pruned}`);
      assert.ok(batches.length >= 3 && batches.every((n) => n <= 100), `batches ${batches.join(',')}`);
      assert.equal(await store.prunePending(horizon), 0);
    });

    if (kind === 'postgres') {
      test('a transaction open in another database on the server does not hold back this outbox', async () => {
        // Temporal, another application or a forgotten psql on the same server: it cannot write here.
        const elsewhere = new Client({ connectionString: postgresUrl() });
        await elsewhere.connect();
        try {
          await elsewhere.query('BEGIN');
          await elsewhere.query('SELECT pg_current_xact_id()');
          const k = randomUUID();
          await db.transaction((tx) => appendEvent(tx, event(k, 'A')));
          const rows = await claim(store, 'r1');
          assert.deepEqual(
            rows.map((r) => [r.msgKey, r.type]),
            [[k, 'A']],
          );
          await markSent(
            store,
            'r1',
            rows.map((r) => r.seq),
          );
        } finally {
          await elsewhere.query('ROLLBACK');
          await elsewhere.end();
        }
      });

      test('the oldest transaction holding back publication is reported with its age', async () => {
        assert.equal(await store.oldestBlockingTransaction(), undefined);
        let letGo!: () => void;
        const gate = new Promise<void>((resolve) => (letGo = resolve));
        let holding!: () => void;
        const held = new Promise<void>((resolve) => (holding = resolve));
        // A session that took a transaction id and sits idle in transaction, as a forgotten psql would.
        const idle = db.transaction(async (tx) => {
          await tx.get('SELECT pg_current_xact_id()');
          holding();
          await gate;
        });
        await held;
        try {
          await new Promise((resolve) => setTimeout(resolve, 300)); // it must have an age to report
          const blocking = await store.oldestBlockingTransaction();
          assert.ok(blocking && blocking.ageMs >= 250, JSON.stringify(blocking));
          assert.equal(blocking.state, 'idle in transaction');
        } finally {
          letGo();
          await idle;
        }
      });

      test("an acknowledged batch frees its keys' next rows before it is marked; its own rows stay held until marked or lapsed", async () => {
        const k = randomUUID();
        for (const type of ['A', 'B', 'C']) await db.transaction((tx) => appendEvent(tx, event(k, type)));
        const now = Date.now();
        const first = await claim(store, 'r1', 1, { now, leaseMs: 1_000 });
        const firstToken = tokens.get('r1') ?? '';
        assert.deepEqual(
          first.map((r) => r.type),
          ['A'],
        );
        assert.deepEqual(await claim(store, 'r2', 100, { now }), [], 'B waits while A is only claimed');
        // Kafka acknowledged A: the relay's next claim says so, and takes B (not A again).
        const next = await store.claim({
          relayId: 'r1',
          limit: 1,
          maxBytes: 1 << 20,
          leaseMs: 60_000,
          now,
          acknowledged: [{ token: firstToken, sentAt: now }],
        });
        assert.deepEqual(
          next.rows.map((r) => r.type),
          ['B'],
        );
        assert.deepEqual(await claim(store, 'r2', 100, { now }), [], 'C waits behind the unacknowledged B');
        assert.equal(await store.markSent(next.token, [next.rows[0]!.seq]), 1);
        // A, acknowledged and not marked, is no candidate and blocks nobody: C goes.
        const third = await claim(store, 'r2', 100, { now });
        assert.deepEqual(
          third.map((r) => r.type),
          ['C'],
        );
        await markSent(
          store,
          'r2',
          third.map((r) => r.seq),
        );
        // An acknowledged claim that lapses unmarked (its relay died) gives A back: published again.
        const again = await claim(store, 'r2', 100, { now: now + 1_001 });
        assert.deepEqual(
          again.map((r) => r.type),
          ['A'],
        );
        assert.equal(await store.markSent(firstToken, [first[0]!.seq]), 0, 'the lapsed claim marks nothing');
        await markSent(
          store,
          'r2',
          again.map((r) => r.seq),
        );
        await drain();
      });

      test('a claim reads the head of a backlog, not all of it, whatever the statistics say', async () => {
        // A Kafka outage builds a backlog the last analyze never saw: the planner then expected a
        // handful of unsent rows, read every one of them (bitmap scan) and sorted them for each
        // claim, so a drain cost O(backlog) per batch. Statistics taken with nothing unsent, then a
        // backlog: the claim's candidate scan must stop at its limit.
        await db.run('ANALYZE outbox');
        await db.run('ANALYZE outbox_queue');
        await db.transaction(async (tx) => {
          for (let i = 0; i < 3_000; i++) await appendEvent(tx, event(randomUUID(), 'Backlog'));
        });
        const script = claimScriptOnPostgres({
          token: 'plan/1',
          relayId: 'plan',
          limit: 100,
          maxBytes: 1 << 20,
          leaseMs: 60_000,
          paused: [],
        });
        const statements = script.split(/;\n/);
        const client = new Client({ connectionString: testDb.url });
        await client.connect();
        try {
          await client.query('BEGIN');
          for (const statement of statements.slice(0, -1)) await client.query(statement);
          const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
            `EXPLAIN (ANALYZE, FORMAT JSON) ${statements[statements.length - 1]}`,
          );
          await client.query('ROLLBACK');
          const scans = (node: PlanNode): { scan: string; rows: number }[] => [
            ...(node['Relation Name'] === 'outbox' || node['Relation Name'] === 'outbox_queue'
              ? [
                  {
                    scan: `${node['Node Type']} on ${node['Relation Name']}`,
                    rows: node['Actual Rows'] * (node['Actual Loops'] ?? 1),
                  },
                ]
              : []),
            ...(node.Plans ?? []).flatMap(scans),
          ];
          const outboxScans = scans(rows[0]!['QUERY PLAN'][0].Plan);
          assert.ok(
            outboxScans.some((s) => s.scan.endsWith('outbox_queue')),
            'the claim walks the queue',
          );
          assert.ok(
            outboxScans.every((s) => s.rows <= 100),
            `outbox rows read per scan: ${outboxScans.map((s) => `${s.scan} ${s.rows}`).join(', ')} (limit 100)`,
          );
        } finally {
          await client.end();
          await drain(); // the next tests start from an empty queue, even when this one fails
        }
      });

      test('a row committed before an earlier-numbered one of its key waits for it', async () => {
        const k = randomUUID();
        let letGo!: () => void;
        const gate = new Promise<void>((resolve) => (letGo = resolve));
        let appended!: () => void;
        const firstAppended = new Promise<void>((resolve) => (appended = resolve));
        // The first transaction takes the smaller seq, then stays open while the second commits.
        const slow = db.transaction(async (tx) => {
          await appendEvent(tx, event(k, 'First'));
          appended();
          await gate;
        });
        await firstAppended;
        await db.transaction((tx) => appendEvent(tx, event(k, 'Second')));
        assert.deepEqual(await claim(store, 'r1'), [], 'Second must not overtake the uncommitted First');
        letGo();
        await slow;
        const both = await claim(store, 'r1');
        assert.deepEqual(
          both.map((r) => r.type),
          ['First', 'Second'],
        );
        await markSent(
          store,
          'r1',
          both.map((r) => r.seq),
        );
      });
    }
  });
}
