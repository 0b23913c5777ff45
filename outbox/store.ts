import type { Database, Sql, SqlValue } from '../platform/database';
import { claimOnPostgres } from './postgres-store';
import { claimOnSqlite } from './sqlite-store';

/** An outbox row handed to a relay: the envelope as stored, and where it goes. */
export interface OutboxRow {
  seq: number;
  id: string;
  topic: string;
  msgKey: string;
  type: string;
  /** The CloudEvents envelope as JSON text, exactly as appended. */
  envelope: string;
  createdAt: number;
  attempts: number;
}

export interface ClaimRequest {
  /** Who holds the claim; only the holder can mark the rows sent or failed. */
  relayId: string;
  /** At most this many rows. */
  limit: number;
  /** At most this many envelope bytes (one row always fits), so a batch's memory is bounded. */
  maxBytes: number;
  /** The claim lapses after this long, so the rows of a relay that died come back. */
  leaseMs: number;
  now?: number;
}

export interface PausedTopic {
  topic: string;
  reason: string;
  pausedAt: number;
}

/**
 * The outbox as a relay sees it. `claim` hands out rows in append order and never hands out a
 * row while an earlier unsent row of the same topic and key is held elsewhere, waits for a retry,
 * or is not yet committed: publishing the batches in claim order keeps each key's order.
 */
export interface OutboxStore {
  readonly dialect: Database['dialect'];
  claim(request: ClaimRequest): Promise<OutboxRow[]>;
  /** Returns how many of the rows were still held by `relayId` (the rest were claimed again elsewhere). */
  markSent(relayId: string, seqs: number[], sentAt?: number): Promise<number>;
  /** Releases the rows for another try not before `retryAt`; the error is kept for operators. */
  recordFailure(relayId: string, seqs: number[], error: string, retryAt: number): Promise<void>;
  /** Gives claimed rows back untouched (a relay shutting down between claim and publish). */
  release(relayId: string, seqs: number[]): Promise<void>;
  backlog(): Promise<number>;
  /** Milliseconds since the oldest unsent row was appended; 0 when nothing waits. */
  oldestUnsentAgeMs(now?: number): Promise<number>;
  pause(topic: string, reason: string, now?: number): Promise<void>;
  resume(topic: string): Promise<void>;
  paused(): Promise<PausedTopic[]>;
  /** Deletes up to `limit` rows sent before `before`; returns how many went. */
  pruneSent(before: number, limit?: number): Promise<number>;
}

/** The raw shape of a claimed row, with how many unsent rows of its key come before it. */
export interface CandidateRow {
  seq: number;
  id: string;
  topic: string;
  msg_key: string;
  type: string;
  envelope: string;
  created_at: number;
  attempts: number;
  earlier: number;
}

/**
 * Keeps the candidates (in append order) that may go now: a row goes only if every earlier unsent
 * row of its key goes in this same batch, ahead of it. Stops at the row and byte limits, so what
 * is kept is a prefix of each key's queue.
 */
export function eligible(candidates: CandidateRow[], limit: number, maxBytes: number): OutboxRow[] {
  const taken = new Map<string, number>();
  const blocked = new Set<string>();
  const out: OutboxRow[] = [];
  let bytes = 0;
  for (const c of candidates) {
    if (out.length >= limit) break;
    const key = `${c.topic}\u0000${c.msg_key}`;
    if (blocked.has(key)) continue;
    const before = taken.get(key) ?? 0;
    if (c.earlier !== before) {
      blocked.add(key);
      continue;
    }
    const size = Buffer.byteLength(c.envelope);
    if (out.length > 0 && bytes + size > maxBytes) break;
    bytes += size;
    taken.set(key, before + 1);
    out.push({
      seq: Number(c.seq),
      id: c.id,
      topic: c.topic,
      msgKey: c.msg_key,
      type: c.type,
      envelope: c.envelope,
      createdAt: Number(c.created_at),
      attempts: Number(c.attempts),
    });
  }
  return out;
}

export const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

async function claimRows(tx: Sql, relayId: string, seqs: number[], until: number): Promise<void> {
  if (seqs.length === 0) return;
  await tx.run(`UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE seq IN (${placeholders(seqs.length)})`, [
    relayId,
    until,
    ...seqs,
  ]);
}

/** The two stores differ only in how they pick candidates; everything else is the same SQL. */
export function openOutboxStore(db: Database): OutboxStore {
  const claimCandidates = db.dialect === 'postgres' ? claimOnPostgres : claimOnSqlite;
  const inSeqs = (seqs: number[]) => `seq IN (${placeholders(seqs.length)})`;
  return {
    dialect: db.dialect,
    claim: ({ relayId, limit, maxBytes, leaseMs, now = Date.now() }) =>
      db.transaction(async (tx) => {
        const rows = eligible(await claimCandidates(tx, limit, now), limit, maxBytes);
        await claimRows(
          tx,
          relayId,
          rows.map((r) => r.seq),
          now + leaseMs,
        );
        return rows;
      }),
    markSent: async (relayId, seqs, sentAt = Date.now()) => {
      if (seqs.length === 0) return 0;
      const { changes } = await db.run(
        `UPDATE outbox SET sent_at = ?, claimed_by = NULL, claimed_until = NULL, last_error = NULL
         WHERE ${inSeqs(seqs)} AND claimed_by = ? AND sent_at IS NULL`,
        [sentAt, ...seqs, relayId],
      );
      return changes;
    },
    recordFailure: async (relayId, seqs, error, retryAt) => {
      if (seqs.length === 0) return;
      await db.run(
        `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, claimed_by = NULL, claimed_until = NULL
         WHERE ${inSeqs(seqs)} AND claimed_by = ?`,
        [error.slice(0, 2000), retryAt, ...seqs, relayId],
      );
    },
    release: async (relayId, seqs) => {
      if (seqs.length === 0) return;
      await db.run(`UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE ${inSeqs(seqs)} AND claimed_by = ?`, [
        ...seqs,
        relayId,
      ]);
    },
    backlog: async () => Number((await db.get<{ n: number }>('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL'))?.n ?? 0),
    oldestUnsentAgeMs: async (now = Date.now()) => {
      // The partial index on unsent rows is ordered by seq; the smallest seq is the oldest append.
      const row = await db.get<{ created_at: number }>(
        'SELECT created_at FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT 1',
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
    pruneSent: async (before, limit = 10_000) => {
      const params: SqlValue[] = [before, limit];
      const { changes } = await db.run(
        'DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ? ORDER BY seq LIMIT ?)',
        params,
      );
      return changes;
    },
  };
}
