import type { Sql } from '../platform/database';
import type { CandidateRow } from './store';

/**
 * PostgreSQL, where several relays may run. Three hazards, three answers:
 * - Two relays taking the same rows: `FOR UPDATE SKIP LOCKED` while the claim is written, then a
 *   lease (`claimed_until`) so the other relays leave the rows alone until they are sent or the
 *   holder is presumed dead. A row claimed meanwhile fails the locking re-check and is skipped.
 * - A relay publishing a key's later event while an earlier one is held elsewhere: `earlier`
 *   counts the key's unsent rows before each candidate, whoever holds them; the caller keeps a row
 *   only if all of those are in its own batch.
 * - A sequence number is taken at insert but becomes visible at commit, so seq 11 can commit
 *   before seq 10. Rows carry their writing transaction id, and only rows older than every
 *   transaction still running are candidates, in (txid, seq) order: nothing that commits later
 *   can sort before them, and an event written after another committed has a larger txid.
 *   A long-running transaction anywhere in the database therefore holds the relay back (lag).
 */
export async function claimOnPostgres(tx: Sql, limit: number, now: number): Promise<CandidateRow[]> {
  // Paused topics are read first and left out by value, and only when there are any: a filter on
  // the topic column (a handful of distinct values) makes the planner expect almost no rows and
  // sort the whole backlog instead of walking the (txid, seq) index, 10x slower on a backlog.
  const paused = (await tx.all<{ topic: string }>('SELECT topic FROM outbox_pauses')).map((p) => p.topic);
  const skipPaused = paused.length > 0 ? `AND o.topic NOT IN (${paused.map(() => '?').join(', ')})` : '';
  return tx.all<CandidateRow>(
    `WITH c AS (
       SELECT o.seq, o.id, o.topic, o.msg_key, o.type, o.envelope, o.created_at, o.attempts, o.txid
       FROM outbox o
       WHERE o.sent_at IS NULL
         AND (o.claimed_until IS NULL OR o.claimed_until < ?)
         AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= ?)
         AND o.txid < pg_snapshot_xmin(pg_current_snapshot())
         ${skipPaused}
       ORDER BY o.txid, o.seq
       LIMIT ?
       FOR UPDATE SKIP LOCKED
     )
     SELECT c.seq, c.id, c.topic, c.msg_key, c.type, c.envelope, c.created_at, c.attempts,
       (SELECT count(*) FROM (
          SELECT 1 FROM outbox e
          WHERE e.sent_at IS NULL AND e.topic = c.topic AND e.msg_key = c.msg_key AND (e.txid, e.seq) < (c.txid, c.seq)
          LIMIT ?) x)::int AS earlier
     FROM c
     ORDER BY c.txid, c.seq`,
    [now, now, ...paused, limit, limit + 1],
  );
}
