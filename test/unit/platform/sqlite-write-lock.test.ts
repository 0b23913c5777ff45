// Invariant: a transaction that waits for another process's write lock on the SQLite file waits
// without stopping this process: timers, I/O and Kafka sends go on meanwhile, and the transaction
// runs as soon as the lock frees. SQLite's own busy handler waited inside the call, stalling the
// whole event loop (a relay's sends with it) in sleeps that grow to 100 ms.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { openDatabase } from '../../../platform/database';

test("waiting for another connection's write lock leaves the event loop running", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trapeze-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ledger.db');
  const ours = openDatabase(`sqlite:${path}`);
  await ours.run('CREATE TABLE entries (n INTEGER)');
  // Another process's writer, in the middle of its transaction.
  const theirs = new BetterSqlite3(path);
  theirs.exec('BEGIN IMMEDIATE');
  theirs.exec('INSERT INTO entries VALUES (1)');

  const seen: string[] = [];
  let ticks = 0;
  const ticking = setInterval(() => (ticks += 1), 5);
  // The other writer commits after a while: only a running event loop gets there.
  setTimeout(() => {
    seen.push(`they committed after ${ticks >= 3 ? 'several' : 'too few'} ticks`);
    theirs.exec('COMMIT');
  }, 60);
  try {
    await ours.transaction(async (tx) => {
      seen.push('we hold the lock');
      await tx.run('INSERT INTO entries VALUES (2)');
    });
  } finally {
    clearInterval(ticking);
    theirs.close();
  }
  assert.deepEqual(seen, ['they committed after several ticks', 'we hold the lock']);
  assert.deepEqual(await ours.all<{ n: number }>('SELECT n FROM entries ORDER BY n'), [{ n: 1 }, { n: 2 }]);
  await ours.close();
});
