import type { Sql } from '../platform/database';
import type { CandidateRow } from './store';

/**
 * SQLite: writers are serialised (`BEGIN IMMEDIATE`), so a row's seq is handed out and committed
 * under the same write lock and seq order is commit order. Candidates are the oldest unsent rows
 * that nobody holds, are not waiting for a retry, and whose topic is not paused; `earlier` counts
 * the unsent rows of the same key before each one (capped: past the batch size the exact number
 * no longer matters), so the caller can keep only whole key prefixes.
 */
export function claimOnSqlite(tx: Sql, limit: number, now: number): Promise<CandidateRow[]> {
  return tx.all<CandidateRow>(
    `SELECT c.seq, c.id, c.topic, c.msg_key, c.type, c.envelope, c.created_at, c.attempts,
       (SELECT count(*) FROM (
          SELECT 1 FROM outbox e
          WHERE e.sent_at IS NULL AND e.topic = c.topic AND e.msg_key = c.msg_key AND e.seq < c.seq
          LIMIT ?)) AS earlier
     FROM outbox c
     WHERE c.sent_at IS NULL
       AND (c.claimed_until IS NULL OR c.claimed_until < ?)
       AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= ?)
       AND c.topic NOT IN (SELECT topic FROM outbox_pauses)
     ORDER BY c.seq
     LIMIT ?`,
    [limit + 1, now, now, limit],
  );
}
