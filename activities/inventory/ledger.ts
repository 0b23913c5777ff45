import type { Sql } from '../../platform/database';
import { expectOneChanged } from '../tcc';

/** SQL of the inventory ledger; every function runs inside the caller's transaction. */
export interface StockLine {
  sku: string;
  quantity: number;
}
export interface Shortage {
  sku: string;
  requested: number;
  available: number;
}
export interface Reservation {
  reservationId: string;
  orderId: string;
  status: 'reserved' | 'unavailable' | 'released';
  lines: StockLine[];
  shortages: Shortage[];
}

interface ReservationRow {
  reservation_id: string;
  order_id: string;
  status: Reservation['status'];
  lines: string;
  shortages: string | null;
}

const toReservation = (r: ReservationRow): Reservation => ({
  reservationId: r.reservation_id,
  orderId: r.order_id,
  status: r.status,
  lines: JSON.parse(r.lines) as StockLine[],
  shortages: r.shortages ? (JSON.parse(r.shortages) as Shortage[]) : [],
});

export async function reservationByKey(tx: Sql, key: string): Promise<Reservation | undefined> {
  const row = await tx.get<ReservationRow>('SELECT * FROM stock_reservations WHERE idempotency_key = ?', [key]);
  return row && toReservation(row);
}

export async function insertReservation(tx: Sql, key: string, r: Reservation): Promise<Reservation> {
  await tx.run(
    'INSERT INTO stock_reservations (reservation_id, idempotency_key, order_id, status, lines, shortages) VALUES (?, ?, ?, ?, ?, ?)',
    [r.reservationId, key, r.orderId, r.status, JSON.stringify(r.lines), r.shortages.length ? JSON.stringify(r.shortages) : null],
  );
  return r;
}

/** Compare-and-set: moves the reservation from `from` to `to`; LostRace if it is no longer `from`. */
export async function moveReservation(
  tx: Sql,
  id: string,
  from: Reservation['status'],
  to: Reservation['status'],
): Promise<void> {
  expectOneChanged(
    await tx.run('UPDATE stock_reservations SET status = ? WHERE reservation_id = ? AND status = ?', [to, id, from]),
    `reservation ${id} ${from} -> ${to}`,
  );
}

/** Takes `quantity` out of the available stock if there is enough; false (and no change) if not. */
export async function takeStock(tx: Sql, line: StockLine): Promise<boolean> {
  const { changes } = await tx.run('UPDATE stock_levels SET reserved = reserved + ? WHERE sku = ? AND on_hand - reserved >= ?', [
    line.quantity,
    line.sku,
    line.quantity,
  ]);
  return changes === 1;
}

export async function giveBackStock(tx: Sql, line: StockLine): Promise<void> {
  await tx.run('UPDATE stock_levels SET reserved = reserved - ? WHERE sku = ?', [line.quantity, line.sku]);
}

export async function available(tx: Sql, sku: string): Promise<number> {
  const row = await tx.get<{ available: number }>('SELECT on_hand - reserved AS available FROM stock_levels WHERE sku = ?', [
    sku,
  ]);
  return row ? Number(row.available) : 0;
}

export const releaseByKey = (tx: Sql, key: string) =>
  tx.get<{ reservation_id: string | null }>('SELECT reservation_id FROM stock_releases WHERE idempotency_key = ?', [key]);

export async function insertRelease(tx: Sql, key: string, orderId: string, reservationId: string | null): Promise<void> {
  await tx.run('INSERT INTO stock_releases (idempotency_key, order_id, reservation_id) VALUES (?, ?, ?)', [
    key,
    orderId,
    reservationId,
  ]);
}

/** Sets each SKU's available stock to the given quantity (restocking; reservations are kept). */
export async function restock(tx: Sql, levels: Record<string, number>): Promise<void> {
  for (const [sku, quantity] of Object.entries(levels)) {
    await tx.run(
      `INSERT INTO stock_levels (sku, on_hand, reserved) VALUES (?, ?, 0)
       ON CONFLICT (sku) DO UPDATE SET on_hand = stock_levels.reserved + excluded.on_hand`,
      [sku, quantity],
    );
  }
}

export const stockLevel = (tx: Sql, sku: string) =>
  tx.get<{ sku: string; on_hand: number; reserved: number }>('SELECT sku, on_hand, reserved FROM stock_levels WHERE sku = ?', [
    sku,
  ]);
