import type { Database } from '../../platform/database';
import { Refusal } from '../../domain/saga';
import { emit } from '../emit';
import { causeOf, noFaults, refusal, type Faults, type StepRef } from '../step';
import { alreadyUndone, bury, tombstoneOf, transact } from '../tcc';
import {
  available,
  giveBackStock,
  insertRelease,
  insertReservation,
  releaseByKey,
  reservationByKey,
  moveReservation,
  takeStock,
  type Reservation,
  type Shortage,
  type StockLine,
} from './ledger';

/** The inventory participant: real stock levels, reserved per order and released on undo. */
export interface ReserveRequest extends StepRef {
  lines: StockLine[];
}
export interface ReleaseRequest extends StepRef {
  /** The idempotency key of the reservation to give back. */
  reserveKey: string;
}
export interface Release {
  reservationId: string | null;
  lines: StockLine[];
}

const TOMBSTONES = 'stock_tombstones';

/** One line per SKU, in SKU order: a fixed locking order keeps concurrent reservations deadlock-free. */
function merged(lines: StockLine[]): StockLine[] {
  const bySku = new Map<string, number>();
  for (const l of lines) bySku.set(l.sku, (bySku.get(l.sku) ?? 0) + l.quantity);
  return [...bySku].sort(([a], [b]) => a.localeCompare(b)).map(([sku, quantity]) => ({ sku, quantity }));
}

export function createInventoryActivities(db: Database, faults: Faults = noFaults) {
  return {
    /**
     * All lines or none: a shortage on any line reserves nothing and is a business refusal. Refuses
     * (StepAlreadyUndone) after releaseStock found nothing to release and buried its key.
     */
    async reserveStock(req: ReserveRequest): Promise<Reservation> {
      const reservation = await transact(db, async (tx) => {
        await tx.lock(req.key);
        const existing = await reservationByKey(tx, req.key);
        if (existing) return existing;
        const buried = await tombstoneOf(tx, TOMBSTONES, req.key);
        if (buried) throw alreadyUndone('reserveStock', req.key, buried.undoKey, 'the reservation');
        const lines = merged(req.lines);
        const taken: StockLine[] = [];
        const shortages: Shortage[] = [];
        for (const line of lines) {
          if (await takeStock(tx, line)) taken.push(line);
          else shortages.push({ sku: line.sku, requested: line.quantity, available: await available(tx, line.sku) });
        }
        const reservationId = `res-${req.orderId}`;
        if (shortages.length > 0) {
          for (const line of taken) await giveBackStock(tx, line);
          await emit(tx, 'StockUnavailable', causeOf(req), { orderId: req.orderId, shortages });
          return insertReservation(tx, req.key, { reservationId, orderId: req.orderId, status: 'unavailable', lines, shortages });
        }
        await emit(tx, 'StockReserved', causeOf(req), { orderId: req.orderId, reservationId, lines });
        return insertReservation(tx, req.key, { reservationId, orderId: req.orderId, status: 'reserved', lines, shortages: [] });
      });
      await faults.afterCommit('reserveStock', req.key);
      if (reservation.status === 'unavailable') {
        const what = reservation.shortages.map((s) => `${s.sku} (${s.requested} requested, ${s.available} available)`).join(', ');
        throw refusal(Refusal.StockUnavailable, `stock unavailable: ${what}`, reservation);
      }
      return reservation;
    },

    /** The undo of reserveStock. With no reservation it buries the reservation's key, so a late reserveStock refuses. */
    async releaseStock(req: ReleaseRequest): Promise<Release> {
      const release = await transact(db, async (tx): Promise<Release> => {
        await tx.lock(req.reserveKey);
        const done = await releaseByKey(tx, req.key);
        if (done) {
          const r = done.reservation_id ? await reservationByKey(tx, req.reserveKey) : undefined;
          return { reservationId: done.reservation_id, lines: r?.lines ?? [] };
        }
        const reservation = await reservationByKey(tx, req.reserveKey);
        if (!reservation) await bury(tx, TOMBSTONES, { forwardKey: req.reserveKey, undoKey: req.key, orderId: req.orderId });
        if (reservation?.status !== 'reserved') {
          await insertRelease(tx, req.key, req.orderId, null);
          return { reservationId: null, lines: [] };
        }
        await moveReservation(tx, reservation.reservationId, 'reserved', 'released');
        for (const line of reservation.lines) await giveBackStock(tx, line);
        await emit(tx, 'StockReleased', causeOf(req), {
          orderId: req.orderId,
          reservationId: reservation.reservationId,
          lines: reservation.lines,
        });
        await insertRelease(tx, req.key, req.orderId, reservation.reservationId);
        return { reservationId: reservation.reservationId, lines: reservation.lines };
      });
      await faults.afterCommit('releaseStock', req.key);
      return release;
    },
  };
}
