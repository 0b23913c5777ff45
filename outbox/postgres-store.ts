import { preparedStatement, type Sql } from '../platform/database';
import type { BlockingTransaction } from './rows';

/**
 * PostgreSQL, where several relays may run. The unsent rows are listed in a narrow queue,
 * `outbox_queue (seq, txid)`, filled by a trigger on every insert into the outbox: a claim walks
 * the queue, a mark deletes the batch's queue rows and records the time in the narrow
 * `outbox_sent (seq, sent_at)`. The wide outbox row is written once, by its append: marking it
 * sent in place rewrote every row (a non-HOT update, ~4 WAL records per row) and was the largest
 * PostgreSQL share of the relay. Three hazards, three answers:
 * - Two relays taking the same rows: claims are written one at a time (a transaction-scoped
 *   advisory lock, held for one candidate query, see claimScriptOnPostgres) into `outbox_claims`, one row per batch with its
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
 *   `oldestBlockingTransaction` names it (see claimScriptOnPostgres for why only this database).
 */

// Any constant works, as long as every relay uses the same one; it spells "outbox".
const CLAIM_LOCK = 0x6f7574626f78;

/** Milliseconds since the epoch on the database server: one clock for every relay's leases. */
export const postgresNow = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

const integer = (n: number) => {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return String(n);
};
// standard_conforming_strings is on (the default since 9.1): doubling quotes is the whole escape.
const text = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * A claim in one round trip (round trips were most of its cost): one text of two statements,
 * which PostgreSQL runs as one implicit transaction. The first takes the claim lock, so claims are
 * written one at a time; the second, with a snapshot taken after the lock, picks the candidates,
 * keeps the whole key prefixes within the byte bound (as `eligible` does on SQLite, here without a
 * probe per candidate) and writes the claim.
 *
 * The commit-order guard: a candidate's txid must be below every transaction this statement's
 * snapshot sees running, except those pg_stat_activity or pg_prepared_xacts place in another
 * database of the server (they cannot write this outbox: Temporal's, another application's, a
 * forgotten psql elsewhere). A role that cannot see other roles' transaction ids sees NULL there
 * and so excludes nothing: the guard is then cluster-wide, as pg_current_snapshot()'s xmin is.
 */
export function claimScriptOnPostgres(claim: {
  token: string;
  relayId: string;
  limit: number;
  maxBytes: number;
  leaseMs: number;
  now?: number;
  /** Topics paused as of the last claim: left out by value (see below), then checked afresh. */
  paused: string[];
  /** This relay's claims whose batches Kafka has acknowledged since its last claim (see below). */
  acknowledged?: string[];
}): string {
  const at = claim.now === undefined ? postgresNow : integer(claim.now);
  // Paused topics are left out by value, and only when there are any (the list comes back on the
  // answer's first row only: an array on each of 500 rows was parsed 500 times by the driver): a filter on the topic column
  // against a list the planner cannot see (a subquery) makes it expect almost no rows and sort the
  // whole backlog instead of walking the (txid, seq) index, 30x slower on a backlog. The list is
  // the one the previous claim returned; a topic paused since is dropped from the picked rows.
  const known = claim.paused.filter((t) => !t.includes('?'));
  const skipPaused = known.length > 0 ? `AND o.topic NOT IN (${known.map(text).join(', ')})` : '';
  // An acknowledged claim's rows are on the topic but not marked yet (the mark runs beside this
  // claim instead of before it, so that the relay never waits for it): its seqs
  // stay held, its keys no longer block, so a key's next events may go while the mark is written.
  // A claim that lapses unmarked (the relay died) gives its rows back: published again, later.
  const acked = claim.acknowledged ?? [];
  const acknowledge =
    acked.length > 0 ? `UPDATE outbox_claims SET acked = true WHERE token IN (${acked.map(text).join(', ')});\n` : '';
  // The candidates must be the first rows of the queue's (txid, seq) index, walked in order and stopped at
  // the limit. Without statistics (a new or quiet table) or with stale ones (a backlog that built up
  // since the last analyze: a Kafka outage), the planner expects a handful of unsent rows and picks
  // a bitmap scan of ALL of them plus a sort: the claim then costs O(backlog), each claim of a
  // 20,000-row backlog 2-3x slower than the index walk (and the drain quadratic). For this one
  // transaction only, bitmap and sequential scans are off (a small table's stale statistics made a
  // sequential scan and sort look cheaper too); JIT is off with them, since the penalty those settings
  // add to a plan's cost would otherwise look worth compiling (1.4 s per claim, measured).
  return `SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off; SET LOCAL jit = off;
    ${acknowledge}SELECT pg_advisory_xact_lock(${CLAIM_LOCK});
    WITH head AS (SELECT ${at}::bigint AS at),
    bound AS (
      SELECT coalesce(min(x), pg_snapshot_xmax(pg_current_snapshot())) AS horizon
      FROM pg_snapshot_xip(pg_current_snapshot()) x
      WHERE NOT EXISTS (
          SELECT 1 FROM pg_stat_activity a
          WHERE a.backend_xid IS NOT NULL AND a.datname IS DISTINCT FROM current_database()
            AND a.backend_xid::text::numeric = x::text::numeric % 4294967296)
        AND NOT EXISTS (
          SELECT 1 FROM pg_prepared_xacts p
          WHERE p.database <> current_database() AND p.transaction::text::numeric = x::text::numeric % 4294967296)
    ),
    c AS (
      SELECT o.seq, o.id, o.topic, o.msg_key, o.type, o.envelope, o.created_at, o.attempts, q.txid
      FROM outbox_queue q JOIN outbox o ON o.seq = q.seq
      WHERE o.parked_at IS NULL
        AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= (SELECT at FROM head))
        AND q.txid < (SELECT horizon FROM bound)
        AND q.seq NOT IN (SELECT unnest(seqs) FROM outbox_claims WHERE claimed_until >= (SELECT at FROM head))
        ${skipPaused}
      ORDER BY q.txid, q.seq
      LIMIT ${integer(claim.limit)}
    ),
    -- Keys with an unsent row that is not a candidate (held by a claim, parked, waiting for its
    -- retry): every candidate of such a key waits. Any other unsent row before a candidate is a
    -- candidate itself (the window is a prefix of the (txid, seq) order), so no per-row probe is
    -- needed; a claim records its keys for this. Blocking on any held row of the key, earlier or
    -- not, only ever delays. A parked row or one waiting for its retry is unsent (neither can be
    -- claimed, so neither can be marked); sent_at, never set by a mark now, stays in the
    -- conditions so that the small partial indexes outbox_parked and outbox_retrying serve them.
    blocked AS (
      SELECT unnest(keys) AS k FROM outbox_claims WHERE claimed_until >= (SELECT at FROM head) AND NOT acked
      UNION
      SELECT o.topic || ' ' || o.msg_key FROM outbox o WHERE o.parked_at IS NOT NULL AND o.sent_at IS NULL
      UNION
      SELECT o.topic || ' ' || o.msg_key FROM outbox o
      WHERE o.next_attempt_at IS NOT NULL AND o.sent_at IS NULL AND o.next_attempt_at > (SELECT at FROM head)
    ),
    kept AS (
      SELECT c.*, sum(octet_length(c.envelope)) OVER w AS bytes, row_number() OVER w AS n
      FROM c WHERE (c.topic || ' ' || c.msg_key) NOT IN (SELECT k FROM blocked)
      WINDOW w AS (ORDER BY c.txid, c.seq)
    ),
    picked AS (
      SELECT * FROM kept
      WHERE (n = 1 OR bytes <= ${integer(claim.maxBytes)}) AND NOT EXISTS (SELECT 1 FROM outbox_pauses p WHERE p.topic = kept.topic)
    ),
    lapsed AS (DELETE FROM outbox_claims WHERE claimed_until < (SELECT at FROM head)),
    written AS (
      INSERT INTO outbox_claims (token, relay_id, claimed_until, seqs, keys)
      SELECT ${text(claim.token)}, ${text(claim.relayId)}, (SELECT at FROM head) + ${integer(claim.leaseMs)},
        array_agg(seq ORDER BY txid, seq), array_agg(DISTINCT topic || ' ' || msg_key)
      FROM picked HAVING count(*) > 0
    )
    SELECT p.seq, p.id, p.topic, p.msg_key, p.type, p.envelope, p.created_at, p.attempts,
      CASE WHEN row_number() OVER (ORDER BY p.txid, p.seq) = 1 THEN ARRAY(SELECT topic FROM outbox_pauses ORDER BY topic) END AS paused
    FROM (SELECT 1) one LEFT JOIN picked p ON true ORDER BY p.txid, p.seq`;
}

/** A PostgreSQL array literal: the driver passes it as text, the query casts it. */
export const bigintArray = (seqs: number[]) => `{${seqs.join(',')}}`;

/**
 * Marks a whole batch sent and ends its claim in one statement; nothing if the claim is gone. The
 * mark takes the rows out of the queue and records when (narrow rows: ~1 WAL record per event
 * each, against ~4 for the rewrite of the wide outbox row it replaces). `last_error` of a row that
 * failed before stays, as history; nothing reads it for a sent row.
 */
export async function markClaimSentOnPostgres(tx: Sql, token: string, seqs: number[], sentAt: number): Promise<number> {
  const { changes } = await tx.run(MARK_CLAIM_SENT, [token, bigintArray(seqs), sentAt]);
  return changes;
}
const MARK_CLAIM_SENT = preparedStatement(
  `WITH c AS (DELETE FROM outbox_claims WHERE token = ? RETURNING 1),
   q AS (DELETE FROM outbox_queue WHERE seq = ANY(?::bigint[]) AND EXISTS (SELECT 1 FROM c) RETURNING seq)
   INSERT INTO outbox_sent (seq, sent_at) SELECT seq, ? FROM q`,
);

/** Marks rows sent, the caller holding its live claim (a batch published in parts). */
export async function markSentOnPostgres(tx: Sql, seqs: number[], sentAt: number): Promise<number> {
  const { changes } = await tx.run(
    `WITH q AS (DELETE FROM outbox_queue WHERE seq = ANY(?::bigint[]) RETURNING seq)
     INSERT INTO outbox_sent (seq, sent_at) SELECT seq, ? FROM q`,
    [bigintArray(seqs), sentAt],
  );
  return changes;
}

/**
 * The transaction of this database holding the oldest transaction id (the guard waits for it), or
 * a prepared transaction of it, whichever is older. Other roles' sessions show their transaction
 * id only to superusers and members of pg_read_all_stats (pg_monitor): grant it to the relay.
 */
export async function oldestBlockingTransaction(db: Sql): Promise<BlockingTransaction | undefined> {
  const scope = 'AND datname = current_database()';
  const preparedScope = 'WHERE database = current_database()';
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
