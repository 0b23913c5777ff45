import type { Sql } from '../platform/database';
import type { BlockingTransaction, CandidateRow } from './rows';

/**
 * PostgreSQL, where several relays may run. Three hazards, three answers:
 * - Two relays taking the same rows: claims are written one at a time (a transaction-scoped
 *   advisory lock, held for one candidate query) into `outbox_claims`, one row per batch with its
 *   seqs and a lease, and candidates skip every seq a live claim holds. The outbox rows themselves
 *   are not rewritten by a claim (the relay's cost on PostgreSQL was two rewrites of every event:
 *   claim and mark sent); `outbox_claims` is UNLOGGED: after a crash it is empty, and the rows of
 *   the batches that were in flight are simply published again (at-least-once).
 * - A relay publishing a key's later event while an earlier one is held elsewhere: `earlier`
 *   counts the key's unsent rows before each candidate, whoever holds them (another claim, a
 *   retry wait, a dead letter); the caller keeps a row only if all of those are in its own batch.
 * - A sequence number is taken at insert but becomes visible at commit, so seq 11 can commit
 *   before seq 10. Rows carry their writing transaction id, and only rows older than every
 *   transaction still running are candidates, in (txid, seq) order: nothing that commits later
 *   can sort before them, and an event written after another committed has a larger txid.
 *   A long-running transaction in this database therefore holds the relay back (lag):
 *   `oldestBlockingTransaction` names it (see databaseHorizon for why only this database).
 */

// Any constant works, as long as every relay uses the same one; it spells "outbox".
const CLAIM_LOCK = 0x6f7574626f78;

/** Milliseconds since the epoch on the database server: one clock for every relay's leases. */
export const postgresNow = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

/**
 * Whether this role sees every session's transaction id in pg_stat_activity (superuser or
 * pg_read_all_stats, e.g. through pg_monitor): only then can the guard be narrowed to this database.
 */
export async function seesAllSessions(db: Sql): Promise<boolean> {
  const row = await db.get<{ ok: boolean }>(
    `SELECT rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') AS ok FROM pg_roles WHERE rolname = current_user`,
  );
  return row?.ok === true;
}

const XID_SPAN = 1n << 32n;

/**
 * The commit-order guard's bound for this database: no transaction that could still commit an
 * outbox row here has a transaction id below it. The next id is read first; then every session of
 * this database holding an id (and every prepared transaction of it). A transaction that takes its
 * id after the first read gets one at or above that bound anyway; one that ends after it has
 * committed before the candidates are read. Transactions of other databases on the same server
 * (Temporal's, another application's, a forgotten psql elsewhere) cannot write this outbox, so
 * they no longer hold the relay back as pg_current_snapshot()'s cluster-wide xmin did.
 */
async function databaseHorizon(tx: Sql, next: bigint): Promise<string> {
  const held = await tx.all<{ xid: string }>(
    `SELECT backend_xid::text AS xid FROM pg_stat_activity
     WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
     UNION ALL
     SELECT transaction::text FROM pg_prepared_xacts WHERE database = current_database()`,
  );
  // pg_stat_activity shows 32-bit xids; each was handed out before `next`, so widen it below `next`.
  let bound = next;
  for (const { xid } of held) {
    const full = next - (((((next % XID_SPAN) - BigInt(xid)) % XID_SPAN) + XID_SPAN) % XID_SPAN);
    if (full < bound) bound = full;
  }
  return bound.toString();
}

/**
 * The candidates for a claim, in (txid, seq) order, and the database clock's reading. `narrow`:
 * bound the guard by this database's transactions (databaseHorizon), else by the cluster-wide xmin
 * (a role that cannot see other sessions' transaction ids must not ignore them). Round trips are
 * few on purpose: they are most of a claim's cost.
 */
export async function claimOnPostgres(
  tx: Sql,
  limit: number,
  now: number | undefined,
  narrow: boolean,
): Promise<{ at: number; candidates: CandidateRow[] }> {
  // One claimer at a time (the candidate query and the claim it writes are one step). The next
  // transaction id comes from this statement's snapshot, taken before the lock is granted: an
  // earlier reading only lowers the bound. Paused topics are left out by value, and only when
  // there are any: a filter on the topic column (a handful of distinct values) makes the planner
  // expect almost no rows and sort the whole backlog instead of walking the (txid, seq) index.
  const head = await tx.get<{ at: number; next: string; paused: string[] }>(
    `SELECT pg_advisory_xact_lock(?)::text AS locked, ${postgresNow} AS at,
       pg_snapshot_xmax(pg_current_snapshot())::text AS next, ARRAY(SELECT topic FROM outbox_pauses) AS paused`,
    [CLAIM_LOCK],
  );
  const at = now ?? Number(head?.at);
  const paused = head?.paused ?? [];
  const horizon = narrow ? await databaseHorizon(tx, BigInt(head?.next ?? '0')) : undefined;
  const skipPaused = paused.length > 0 ? `AND o.topic NOT IN (${paused.map(() => '?').join(', ')})` : '';
  const candidates = await tx.all<CandidateRow>(
    `WITH c AS (
       SELECT o.seq, o.id, o.topic, o.msg_key, o.type, o.envelope, o.created_at, o.attempts, o.txid
       FROM outbox o
       WHERE o.sent_at IS NULL
         AND o.parked_at IS NULL
         AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= ?)
         AND o.txid < ${horizon === undefined ? 'pg_snapshot_xmin(pg_current_snapshot())' : '?::xid8'}
         AND o.seq NOT IN (SELECT unnest(seqs) FROM outbox_claims WHERE claimed_until >= ?)
         ${skipPaused}
       ORDER BY o.txid, o.seq
       LIMIT ?
     )
     SELECT c.seq, c.id, c.topic, c.msg_key, c.type, c.envelope, c.created_at, c.attempts,
       (SELECT count(*) FROM (
          SELECT 1 FROM outbox e
          WHERE e.sent_at IS NULL AND e.topic = c.topic AND e.msg_key = c.msg_key AND (e.txid, e.seq) < (c.txid, c.seq)
          LIMIT ?) x)::int AS earlier
     FROM c
     ORDER BY c.txid, c.seq`,
    [at, ...(horizon === undefined ? [] : [horizon]), at, ...paused, limit, limit + 1],
  );
  return { at, candidates };
}

/** Writes a claim and clears the lapsed ones (whose rows the candidates above already ignored). */
export async function writeClaimOnPostgres(
  tx: Sql,
  claim: { token: string; relayId: string; until: number; at: number; seqs: number[] },
): Promise<void> {
  await tx.run(
    `WITH lapsed AS (DELETE FROM outbox_claims WHERE claimed_until < ?)
     INSERT INTO outbox_claims (token, relay_id, claimed_until, seqs) VALUES (?, ?, ?, ?::bigint[])`,
    [claim.at, claim.token, claim.relayId, claim.until, bigintArray(claim.seqs)],
  );
}

/** A PostgreSQL array literal: the driver passes it as text, the query casts it. */
export const bigintArray = (seqs: number[]) => `{${seqs.join(',')}}`;

/** Marks a whole batch sent and ends its claim in one statement; nothing if the claim is gone. */
export async function markClaimSentOnPostgres(tx: Sql, token: string, seqs: number[], sentAt: number): Promise<number> {
  const { changes } = await tx.run(
    `WITH c AS (DELETE FROM outbox_claims WHERE token = ? RETURNING 1)
     UPDATE outbox SET sent_at = ?, last_error = NULL
     WHERE seq = ANY(?::bigint[]) AND sent_at IS NULL AND EXISTS (SELECT 1 FROM c)`,
    [token, sentAt, bigintArray(seqs)],
  );
  return changes;
}

/**
 * The transaction holding the oldest transaction id that the guard waits for (in this database,
 * or anywhere in the cluster when the role cannot see other sessions), or a prepared transaction,
 * whichever is older.
 */
export async function oldestBlockingTransaction(db: Sql, thisDatabaseOnly: boolean): Promise<BlockingTransaction | undefined> {
  const scope = thisDatabaseOnly ? 'AND datname = current_database()' : '';
  const preparedScope = thisDatabaseOnly ? 'WHERE database = current_database()' : '';
  const running = await db.get<{ age_ms: number; state: string; pid: number; application: string; database: string }>(
    `SELECT (extract(epoch from clock_timestamp() - xact_start) * 1000)::bigint AS age_ms,
       coalesce(state, '') AS state, pid, coalesce(application_name, '') AS application, coalesce(datname, '') AS database
     FROM pg_stat_activity
     WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() AND xact_start IS NOT NULL ${scope}
     ORDER BY age(backend_xid) DESC LIMIT 1`,
  );
  const prepared = await db.get<{ age_ms: number; database: string }>(
    `SELECT (extract(epoch from clock_timestamp() - prepared) * 1000)::bigint AS age_ms, database
     FROM pg_prepared_xacts ${preparedScope} ORDER BY age(transaction) DESC LIMIT 1`,
  );
  const candidates: BlockingTransaction[] = [];
  if (running)
    candidates.push({
      ageMs: Math.max(0, Number(running.age_ms)),
      state: running.state,
      pid: Number(running.pid),
      application: running.application,
      database: running.database,
    });
  if (prepared) candidates.push({ ageMs: Math.max(0, Number(prepared.age_ms)), state: 'prepared', database: prepared.database });
  return candidates.sort((a, b) => b.ageMs - a.ageMs)[0];
}
