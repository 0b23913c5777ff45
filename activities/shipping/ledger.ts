import type { Sql } from '../../platform/database';
import { expectOneChanged } from '../tcc';

/** SQL of the shipping ledger; every function runs inside the caller's transaction. */
export interface Recipient {
  name: string;
  address: { line1: string; line2?: string; city: string; postalCode: string; country: string };
}

export interface Shipment {
  shipmentId: string;
  orderId: string;
  status: 'allocated' | 'undeliverable' | 'cancelled' | 'dispatched';
  carrier: string | null;
  country: string;
  trackingNumber: string | null;
  reason: string | null;
}

interface ShipmentRow {
  shipment_id: string;
  order_id: string;
  status: Shipment['status'];
  carrier: string | null;
  country: string;
  tracking_number: string | null;
  reason: string | null;
}

const toShipment = (r: ShipmentRow): Shipment => ({
  shipmentId: r.shipment_id,
  orderId: r.order_id,
  status: r.status,
  carrier: r.carrier,
  country: r.country,
  trackingNumber: r.tracking_number,
  reason: r.reason,
});

const COLUMNS = 'shipment_id, order_id, status, carrier, country, tracking_number, reason';

export async function shipmentByKey(tx: Sql, key: string): Promise<Shipment | undefined> {
  const row = await tx.get<ShipmentRow>(`SELECT ${COLUMNS} FROM shipments WHERE idempotency_key = ?`, [key]);
  return row && toShipment(row);
}

export async function shipmentById(tx: Sql, id: string): Promise<Shipment | undefined> {
  const row = await tx.get<ShipmentRow>(`SELECT ${COLUMNS} FROM shipments WHERE shipment_id = ?`, [id]);
  return row && toShipment(row);
}

export async function insertShipment(tx: Sql, key: string, s: Shipment, recipient: Recipient): Promise<Shipment> {
  await tx.run(
    `INSERT INTO shipments (shipment_id, idempotency_key, order_id, status, carrier, country, recipient, tracking_number, reason)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [s.shipmentId, key, s.orderId, s.status, s.carrier, s.country, JSON.stringify(recipient), s.trackingNumber, s.reason],
  );
  return s;
}

/** Compare-and-set: moves the shipment from `from` to `to`; LostRace if it is no longer `from`. */
export async function moveShipment(
  tx: Sql,
  id: string,
  from: Shipment['status'],
  to: Shipment['status'],
  trackingNumber: string | null = null,
  carrier: string | null = null,
): Promise<void> {
  expectOneChanged(
    await tx.run(
      `UPDATE shipments SET status = ?, tracking_number = COALESCE(?, tracking_number), carrier = COALESCE(?, carrier)
       WHERE shipment_id = ? AND status = ?`,
      [to, trackingNumber, carrier, id, from],
    ),
    `shipment ${id} ${from} -> ${to}`,
  );
}

export interface ShipmentOperation {
  kind: 'cancel' | 'dispatch';
  shipmentId: string | null;
  applied: boolean;
}

export async function operationByKey(tx: Sql, key: string): Promise<ShipmentOperation | undefined> {
  const row = await tx.get<{ kind: ShipmentOperation['kind']; shipment_id: string | null; applied: number }>(
    'SELECT kind, shipment_id, applied FROM shipment_operations WHERE idempotency_key = ?',
    [key],
  );
  return row && { kind: row.kind, shipmentId: row.shipment_id, applied: row.applied === 1 };
}

/** The key of the cancellation that cancelled this shipment, if one did. */
export async function cancelledBy(tx: Sql, shipmentId: string): Promise<string | undefined> {
  const row = await tx.get<{ idempotency_key: string }>(
    "SELECT idempotency_key FROM shipment_operations WHERE shipment_id = ? AND kind = 'cancel' AND applied = 1",
    [shipmentId],
  );
  return row?.idempotency_key;
}

export async function insertOperation(tx: Sql, key: string, orderId: string, op: ShipmentOperation): Promise<ShipmentOperation> {
  await tx.run('INSERT INTO shipment_operations (idempotency_key, order_id, kind, shipment_id, applied) VALUES (?, ?, ?, ?, ?)', [
    key,
    orderId,
    op.kind,
    op.shipmentId,
    op.applied ? 1 : 0,
  ]);
  return op;
}
