import { randomBytes } from 'node:crypto';
import type { Database, Sql } from '../platform/database';
import {
  claimScriptOnPostgres,
  markClaimSentOnPostgres,
  markSentOnPostgres,
  oldestBlockingTransaction,
  postgresNow,
} from './postgres-store';
import {
  eligible,
  placeholders,
  toRow,
  type BlockingTransaction,
  type CandidateRow,
  type DeadLetter,
  type OutboxRow,
} from './rows';
import { claimOnSqlite, markClaimSentOnSqlite, sqliteNow, writeClaimOnSqlite } from './sqlite-store';

export type { BlockingTransaction, DeadLetter, OutboxRow } from './rows';

export interface ClaimRequest {
  /** Who claims: kept with the claim for operators; the claim itself is named by its token. */
  relayId: string;
  /** At most this many rows. */
  limit: number;
  /** At most this many envelope bytes (one row always fits), so a batch's memory is bounded. */
  maxBytes: number;
  /** The claim lapses after this long (on the database's clock), so a dead relay's rows come back. */
  leaseMs: number;
  /** Tests only: the database clock's reading to use. */
  now?: number;
  /**
   * This relay's claims that Kafka has acknowledged and that are not marked yet, with the time.
   * PostgreSQL: their rows stay held until marked beside this claim (or the lease lapses), their
   * keys no longer block, so the claim need not wait for the mark. SQLite: they are marked sent in
   * this claim's own transaction (one write lock per batch instead of two: a writer in another
   * process takes the lock back as soon as it frees, so each lock cost a relay ~40 ms of waiting).
   */
  acknowledged?: { token: string; sentAt: number }[];
}

/**
 * A batch handed to one relay. Only the holder of the token can mark its rows sent, failed or
 * parked, and only while the claim lives: a stale batch whose lease lapsed (and whose rows a newer
 * claim, even of the same relay, took again) changes nothing.
 */
export interface Claim {
  token: string;
  rows: OutboxRow[];
  /**
   * SQLite: rows marked sent for each acknowledged claim of the request, in its order (fewer than
   * the claim had: it lapsed meanwhile). PostgreSQL: absent, the relay marks them beside.
   */
  marked?: number[];
}

export interface PausedTopic {
  topic: string;
  reason: string;
  pausedAt: number;
}

/**
 * The outbox as a relay sees it. `claim` hands out rows in append order and never hands out a
 * row while an earlier unsent row of the same topic and key is held elsewhere, waits for a retry,
 * is parked as a dead letter or is not yet committed: publishing the batches in claim order keeps
 * each key's order.
 */
export interface OutboxStore {
  readonly dialect: Database['dialect'];
  claim(request: ClaimRequest): Promise<Claim>;
  /**
   * Marks rows of a live claim sent; returns how many (0: the claim lapsed and may be held anew).
   * The claim ends with it unless `keepClaim` (a batch published in parts).
   */
  markSent(token: string, seqs: number[], options?: { sentAt?: number; keepClaim?: boolean }): Promise<number>;
  /** Ends the claim and releases its rows for another try `retryInMs` from now (database clock). */
  recordFailure(token: string, seqs: number[], error: string, retryInMs: number): Promise<void>;
  /** Parks a row of a live claim as a dead letter with its reason; its key's later rows wait behind it. */
  park(token: string, seq: number, reason: string): Promise<boolean>;
  /** Ends a claim, giving back whatever of it was not marked (the rows are claimable at once). */
  release(token: string): Promise<void>;
  backlog(): Promise<number>;
  /** Milliseconds since the oldest unsent row was appended; 0 when nothing waits. */
  oldestUnsentAgeMs(now?: number): Promise<number>;
  pause(topic: string, reason: string, now?: number): Promise<void>;
  resume(topic: string): Promise<void>;
  paused(): Promise<PausedTopic[]>;
  /** Deletes rows sent before `before`, `batchSize` at a time until none is left; returns how many went. */
  pruneSent(before: number, batchSize?: number, onBatch?: (deleted: number) => void): Promise<number>;
  /** Rows sent before `before` and not yet pruned. */
  prunePending(before: number): Promise<number>;
  deadLetters(): Promise<DeadLetter[]>;
  /** Parked rows, and the unsent rows of their keys waiting behind them. */
  deadLetterCounts(): Promise<{ parked: number; waiting: number }>;
  /** Puts a parked row (by event id or seq) back in line; returns whether one was parked. */
  redrive(idOrSeq: string): Promise<boolean>;
  /** PostgreSQL: the oldest transaction holding back the commit-order guard; SQLite has none. */
  oldestBlockingTransaction(): Promise<BlockingTransaction | undefined>;
}

/** Both stores run the same statements except where noted: candidates, the clock, claim arrays. */
export function openOutboxStore(db: Database): OutboxStore {
  const pg = db.dialect === 'postgres';
  const dbNow = pg ? postgresNow : sqliteNow;
  let paused: string[] = [];
  const inSeqs = (seqs: number[]) => `seq IN (${placeholders(seqs.length)})`;
  // Whether the outbox row (as `alias`) is unsent: PostgreSQL lists unsent rows in outbox_queue and
  // no longer writes sent_at (postgres-store); SQLite marks the row itself.
  const unsent = (alias = 'outbox') =>
    pg ? `EXISTS (SELECT 1 FROM outbox_queue q WHERE q.seq = ${alias}.seq)` : `${alias}.sent_at IS NULL`;
  // The unsent rows as `w`, from the queue on PostgreSQL (it has no index of unsent rows by key:
  // the queue is the short list to walk), followed by further conditions.
  const unsentRowsWhere = pg ? 'outbox_queue u JOIN outbox w ON w.seq = u.seq WHERE' : 'outbox w WHERE w.sent_at IS NULL AND';
  /** Whether the claim still lives; on PostgreSQL it is held against a concurrent re-claim meanwhile. */
  const claimLives = async (tx: Sql, token: string) =>
    (await tx.get(`SELECT 1 AS held FROM outbox_claims WHERE token = ?${pg ? ' FOR SHARE' : ''}`, [token])) !== undefined;
  const endClaim = async (tx: Sql, token: string) =>
    (await tx.run('DELETE FROM outbox_claims WHERE token = ?', [token])).changes > 0;

  return {
    dialect: db.dialect,
    claim: async ({ relayId: requested, limit, maxBytes, leaseMs, now, acknowledged }) => {
      // Kept to plain characters: on PostgreSQL they are written into the claim's statement text.
      const relayId = requested.replace(/[^\w.:@-]/g, '_');
      const token = `${relayId}/${randomBytes(6).toString('hex')}`;
      if (pg) {
        // Candidates, eligibility and the claim in one round trip (postgres-store); the answer has
        // one row even when nothing was picked, to carry the paused topics for the next claim.
        // A list that changed meanwhile (a resume) is used at once when nothing could be picked.
        for (let attempt = 0; ; attempt++) {
          const used = paused;
          const picked = await db.all<Omit<CandidateRow, 'earlier' | 'seq'> & { seq: number | null; paused: string[] | null }>(
            claimScriptOnPostgres({
              token,
              relayId,
              limit,
              maxBytes,
              leaseMs,
              now,
              paused: used,
              acknowledged: acknowledged?.map((a) => a.token),
            }),
          );
          paused = picked[0]?.paused ?? [];
          const rows = picked.flatMap((r) => (r.seq === null ? [] : [toRow({ ...r, seq: r.seq })]));
          if (rows.length > 0 || attempt > 0 || paused.join('\u0000') === used.join('\u0000')) return { token, rows };
        }
      }
      return db.transaction(async (tx) => {
        const marked: number[] = [];
        for (const ack of acknowledged ?? []) marked.push(await markClaimSentOnSqlite(tx, ack.token, ack.sentAt));
        const { at, candidates } = await claimOnSqlite(tx, limit, now);
        const rows = eligible(candidates, limit, maxBytes);
        if (rows.length > 0)
          await writeClaimOnSqlite(tx, { token, relayId, until: at + leaseMs, at, seqs: rows.map((r) => r.seq) });
        return { token, rows, marked };
      });
    },
    markSent: async (token, seqs, { sentAt = Date.now(), keepClaim = false } = {}) => {
      if (seqs.length === 0) return 0;
      if (pg && !keepClaim) return markClaimSentOnPostgres(db, token, seqs, sentAt);
      return db.transaction(async (tx) => {
        if (!(keepClaim ? await claimLives(tx, token) : await endClaim(tx, token))) return 0;
        if (pg) return markSentOnPostgres(tx, seqs, sentAt);
        const { changes } = await tx.run(
          `UPDATE outbox SET sent_at = ?, last_error = NULL WHERE ${inSeqs(seqs)} AND sent_at IS NULL`,
          [sentAt, ...seqs],
        );
        return changes;
      });
    },
    recordFailure: async (token, seqs, error, retryInMs) => {
      await db.transaction(async (tx) => {
        if (!(await endClaim(tx, token)) || seqs.length === 0) return;
        await tx.run(
          `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ${dbNow} + ?
           WHERE ${inSeqs(seqs)} AND ${unsent()}`,
          [error.slice(0, 2000), Math.round(retryInMs), ...seqs],
        );
      });
    },
    park: (token, seq, reason) =>
      db.transaction(async (tx) => {
        if (!(await claimLives(tx, token))) return false;
        const { changes } = await tx.run(
          `UPDATE outbox SET parked_at = ${dbNow}, attempts = attempts + 1, last_error = ? WHERE seq = ? AND ${unsent()}`,
          [reason.slice(0, 2000), seq],
        );
        return changes > 0;
      }),
    release: async (token) => void (await db.run('DELETE FROM outbox_claims WHERE token = ?', [token])),
    backlog: async () =>
      Number(
        (await db.get<{ n: number }>(`SELECT count(*) AS n FROM ${pg ? 'outbox_queue' : 'outbox WHERE sent_at IS NULL'}`))?.n ??
          0,
      ),
    oldestUnsentAgeMs: async (now = Date.now()) => {
      // The unsent rows' index (the queue's key on PostgreSQL) is ordered by seq; the smallest seq
      // is the oldest append.
      const row = await db.get<{ created_at: number }>(
        pg
          ? 'SELECT o.created_at FROM outbox o WHERE o.seq = (SELECT min(seq) FROM outbox_queue)'
          : 'SELECT created_at FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT 1',
      );
      return row ? Math.max(0, now - Number(row.created_at)) : 0;
    },
    pause: async (topic, reason, now = Date.now()) => {
      await db.run(
        'INSERT INTO outbox_pauses (topic, reason, paused_at) VALUES (?, ?, ?) ON CONFLICT (topic) DO UPDATE SET reason = excluded.reason',
        [topic, reason, now],
      );
    },
    resume: async (topic) => void (await db.run('DELETE FROM outbox_pauses WHERE topic = ?', [topic])),
    paused: async () =>
      (
        await db.all<{ topic: string; reason: string; paused_at: number }>(
          'SELECT topic, reason, paused_at FROM outbox_pauses ORDER BY topic',
        )
      ).map((p) => ({ topic: p.topic, reason: p.reason, pausedAt: Number(p.paused_at) })),
    pruneSent: async (before, batchSize = 5_000, onBatch) => {
      // Bounded batches, each its own short statement, until a batch comes back short: a backlog of
      // any size is caught up in one pass without one huge delete holding locks and bloating WAL.
      // Relays pruning at once skip each other's rows on PostgreSQL instead of waiting on them.
      // On PostgreSQL the sent times are in outbox_sent, whose rows go with their outbox rows.
      let total = 0;
      for (;;) {
        const { changes } = await db.run(
          pg
            ? `WITH s AS (DELETE FROM outbox_sent WHERE seq IN (
                 SELECT seq FROM outbox_sent WHERE sent_at < ? ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING seq)
               DELETE FROM outbox WHERE seq IN (SELECT seq FROM s)`
            : `DELETE FROM outbox WHERE seq IN (
                 SELECT seq FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ? ORDER BY seq LIMIT ?)`,
          [before, batchSize],
        );
        total += changes;
        onBatch?.(changes);
        if (changes < batchSize) return total;
        // Let the relay's own statements in between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    prunePending: async (before) =>
      Number((await db.get<{ n: number }>('SELECT count(*) AS n FROM outbox_sent WHERE sent_at < ?', [before]))?.n ?? 0),
    deadLetters: async () =>
      (
        await db.all<{
          seq: number;
          id: string;
          topic: string;
          msg_key: string;
          type: string;
          attempts: number;
          last_error: string | null;
          parked_at: number;
          bytes: number;
          waiting: number;
        }>(
          `SELECT p.seq, p.id, p.topic, p.msg_key, p.type, p.attempts, p.last_error, p.parked_at, length(p.envelope) AS bytes,
             (SELECT count(*) FROM ${unsentRowsWhere} w.topic = p.topic AND w.msg_key = p.msg_key AND w.seq > p.seq) AS waiting
           FROM outbox p WHERE p.parked_at IS NOT NULL AND p.sent_at IS NULL ORDER BY p.seq`,
        )
      ).map((r) => ({
        seq: Number(r.seq),
        id: r.id,
        topic: r.topic,
        msgKey: r.msg_key,
        type: r.type,
        attempts: Number(r.attempts),
        reason: r.last_error ?? '',
        parkedAt: Number(r.parked_at),
        bytes: Number(r.bytes),
        waiting: Number(r.waiting),
      })),
    deadLetterCounts: async () => {
      const row = await db.get<{ parked: number; waiting: number }>(
        `SELECT
           (SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL AND sent_at IS NULL) AS parked,
           (SELECT count(*) FROM ${unsentRowsWhere} w.parked_at IS NULL AND EXISTS (
              SELECT 1 FROM outbox p WHERE p.parked_at IS NOT NULL AND p.sent_at IS NULL
                AND p.topic = w.topic AND p.msg_key = w.msg_key AND p.seq < w.seq)) AS waiting`,
      );
      return { parked: Number(row?.parked ?? 0), waiting: Number(row?.waiting ?? 0) };
    },
    redrive: async (idOrSeq) => {
      const bySeq = /^\d+$/.test(idOrSeq);
      const { changes } = await db.run(
        `UPDATE outbox SET parked_at = NULL, attempts = 0, next_attempt_at = NULL, last_error = NULL
         WHERE ${bySeq ? 'seq' : 'id'} = ? AND parked_at IS NOT NULL AND sent_at IS NULL`,
        [bySeq ? Number(idOrSeq) : idOrSeq],
      );
      return changes > 0;
    },
    oldestBlockingTransaction: async () => (pg ? oldestBlockingTransaction(db) : undefined),
  };
}
