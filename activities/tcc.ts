import { ApplicationFailure } from '@temporalio/activity';
import { StepAlreadyUndone } from '../domain/saga';
import type { Database, Tx } from '../platform/database';

/**
 * The three TCC rules every participant keeps (README, "Guarantees under races"):
 * - empty undo: an undo whose step never took effect buries the step's idempotency key (a
 *   tombstone in the context's own table) and changes nothing else;
 * - no suspension: a step that finds its key buried (a late attempt, a zombie activity) refuses
 *   with a non-retryable `StepAlreadyUndone` and changes nothing;
 * - idempotence: each operation answers a repeat from what it recorded the first time.
 * A step and its undo both lock the step's key first (Tx.lock), so they never both decide that
 * the other has not happened; every state change is a compare-and-set on the state it read.
 */
export type TombstoneTable = 'order_tombstones' | 'payment_tombstones' | 'stock_tombstones' | 'shipment_tombstones';

export interface Tombstone {
  /** The idempotency key of the step that never took effect. */
  forwardKey: string;
  /** The idempotency key of the undo that found nothing to undo. */
  undoKey: string;
  orderId: string;
}

export const tombstoneMigration = (table: TombstoneTable) => `CREATE TABLE IF NOT EXISTS ${table} (
      forward_key TEXT PRIMARY KEY,
      undo_key TEXT NOT NULL,
      order_id TEXT NOT NULL,
      buried_at BIGINT NOT NULL
    )`;

export async function tombstoneOf(tx: Tx, table: TombstoneTable, forwardKey: string): Promise<Tombstone | undefined> {
  const row = await tx.get<{ forward_key: string; undo_key: string; order_id: string }>(
    `SELECT forward_key, undo_key, order_id FROM ${table} WHERE forward_key = ?`,
    [forwardKey],
  );
  return row && { forwardKey: row.forward_key, undoKey: row.undo_key, orderId: row.order_id };
}

/** Records that the step under `forwardKey` never took effect and must never take effect later. */
export async function bury(tx: Tx, table: TombstoneTable, t: Tombstone): Promise<void> {
  await tx.run(`INSERT INTO ${table} (forward_key, undo_key, order_id, buried_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, [
    t.forwardKey,
    t.undoKey,
    t.orderId,
    Date.now(),
  ]);
}

/**
 * The refusal of a step that comes after its undo (or after the undo of the step it builds on):
 * nothing was changed; for the saga the step never happened. Non-retryable: a retry would meet
 * the same undo.
 */
export function alreadyUndone(step: string, key: string, undoneBy: string, what: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: StepAlreadyUndone,
    message: `${step} refused: ${what} was already undone by ${undoneBy}; nothing changed`,
    nonRetryable: true,
    details: [{ step, key, undoneBy }],
  });
}

/** A compare-and-set found another state than the one read: a concurrent transaction moved first. */
export class LostRace extends Error {
  override readonly name = 'LostRace';
}

/** Fails the transaction with LostRace unless the compare-and-set changed exactly one row. */
export function expectOneChanged({ changes }: { changes: number }, what: string): void {
  if (changes !== 1) throw new LostRace(`${what}: changed concurrently`);
}

const ATTEMPTS = 5;

/**
 * Runs `decide` in a transaction and runs it again, from fresh reads, when one of its
 * compare-and-sets lost a race: the second run sees what the winner committed and answers from
 * that. States only move forward, so a few rounds always settle.
 */
export async function transact<T>(db: Database, decide: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(decide);
    } catch (err) {
      if (!(err instanceof LostRace) || attempt >= ATTEMPTS) throw err;
    }
  }
}
