/**
 * The outbox's row shapes, shared by the store and its two dialects (kept apart from store.ts so
 * that the dialect modules need not import the store that imports them).
 */

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

/** The raw shape of a claimable row, with how many unsent rows of its key come before it. */
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

/** A row the relay could never publish, parked with its reason until an operator re-drives it. */
export interface DeadLetter {
  seq: number;
  id: string;
  topic: string;
  msgKey: string;
  type: string;
  attempts: number;
  reason: string;
  parkedAt: number;
  /** Bytes of the stored envelope (the usual reason is size). */
  bytes: number;
  /** Later unsent rows of the same key, waiting behind this one. */
  waiting: number;
}

/** The PostgreSQL session holding the oldest transaction id, which holds back publication. */
export interface BlockingTransaction {
  ageMs: number;
  /** `prepared` for a two-phase transaction nobody committed yet. */
  state: string;
  pid?: number;
  application?: string;
  database?: string;
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
    if (Number(c.earlier) !== before) {
      blocked.add(key);
      continue;
    }
    const size = Buffer.byteLength(c.envelope);
    if (out.length > 0 && bytes + size > maxBytes) break;
    bytes += size;
    taken.set(key, before + 1);
    out.push(toRow(c));
  }
  return out;
}

export const toRow = (c: Omit<CandidateRow, 'earlier'>): OutboxRow => ({
  seq: Number(c.seq),
  id: c.id,
  topic: c.topic,
  msgKey: c.msg_key,
  type: c.type,
  envelope: c.envelope,
  createdAt: Number(c.created_at),
  attempts: Number(c.attempts),
});

export const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
