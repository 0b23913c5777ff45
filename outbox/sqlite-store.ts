import type { Sql } from '../platform/database';
import type { CandidateRow } from './rows';

/**
 * SQLite: writers are serialised (`BEGIN IMMEDIATE`), so a row's seq is handed out and committed
 * under the same write lock and seq order is commit order. Candidates are the oldest unsent rows
 * that no live claim holds, are not parked or waiting for a retry, and whose topic is not paused;
 * `earlier` counts the unsent rows of the same key before each one (capped: past the batch size
 * the exact number no longer matters), so the caller can keep only whole key prefixes. A claim
 * keeps its seqs as a JSON array in `outbox_claims`.
 */
export const sqliteNow = `CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)`;

export async function claimOnSqlite(
  tx: Sql,
  limit: number,
  now: number | undefined,
): Promise<{ at: number; candidates: CandidateRow[] }> {
  const at = now ?? Number((await tx.get<{ now: number }>(`SELECT ${sqliteNow} AS now`))?.now);
  const candidates = await tx.all<CandidateRow>(
    `SELECT c.seq, c.id, c.topic, c.msg_key, c.type, c.envelope, c.created_at, c.attempts,
       (SELECT count(*) FROM (
          SELECT 1 FROM outbox e
          WHERE e.sent_at IS NULL AND e.topic = c.topic AND e.msg_key = c.msg_key AND e.seq < c.seq
          LIMIT ?)) AS earlier
     FROM outbox c
     WHERE c.sent_at IS NULL
       AND c.parked_at IS NULL
       AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= ?)
       AND c.topic NOT IN (SELECT topic FROM outbox_pauses)
       AND c.seq NOT IN (SELECT j.value FROM outbox_claims, json_each(outbox_claims.seqs) j WHERE claimed_until >= ?)
     ORDER BY c.seq
     LIMIT ?`,
    [limit + 1, at, at, limit],
  );
  return { at, candidates };
}

export async function writeClaimOnSqlite(
  tx: Sql,
  claim: { token: string; relayId: string; until: number; at: number; seqs: number[] },
): Promise<void> {
  await tx.run('DELETE FROM outbox_claims WHERE claimed_until < ?', [claim.at]);
  await tx.run('INSERT INTO outbox_claims (token, relay_id, claimed_until, seqs) VALUES (?, ?, ?, ?)', [
    claim.token,
    claim.relayId,
    claim.until,
    JSON.stringify(claim.seqs),
  ]);
}

/**
 * Marks a live claim's rows sent and ends it, by its token alone (its seqs are in the claim);
 * returns how many rows were marked: 0 when it lapsed (its rows may be claimed anew).
 */
export async function markClaimSentOnSqlite(tx: Sql, token: string, sentAt: number): Promise<number> {
  const { changes } = await tx.run(
    `UPDATE outbox SET sent_at = ?, last_error = NULL
     WHERE seq IN (SELECT j.value FROM outbox_claims, json_each(outbox_claims.seqs) j WHERE token = ?) AND sent_at IS NULL`,
    [sentAt, token],
  );
  await tx.run('DELETE FROM outbox_claims WHERE token = ?', [token]);
  return changes;
}
