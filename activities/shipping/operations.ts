import type { Database } from '../../platform/database';
import { Refusal } from '../../domain/saga';
import { emit } from '../emit';
import { causeOf, noFaults, refusal, type Faults, type StepRef } from '../step';
import {
  insertOperation,
  insertShipment,
  operationByKey,
  shipmentByKey,
  shipmentById,
  updateShipment,
  type Recipient,
  type Shipment,
  type ShipmentOperation,
} from './ledger';

/**
 * The shipping participant: books a carrier for the destination, cancels bookings, and records
 * the warehouse's dispatch. Countries without a carrier are undeliverable (a business refusal).
 */
export const CARRIERS: Readonly<Record<string, string>> = {
  DE: 'DHL',
  AT: 'DHL',
  CH: 'DHL',
  FR: 'Colissimo',
  BE: 'bpost',
  NL: 'PostNL',
  LU: 'PostNL',
  ES: 'Correos',
  IT: 'Poste Italiane',
  PL: 'InPost',
  DK: 'PostNord',
  SE: 'PostNord',
  IE: 'An Post',
  GB: 'Royal Mail',
  US: 'UPS',
  CA: 'UPS',
};

export interface AllocateRequest extends StepRef {
  recipient: Recipient;
}
export interface CancelShipmentRequest extends StepRef {
  /** The idempotency key of the allocation to cancel. */
  allocateKey: string;
}
export interface DispatchRequest extends StepRef {
  allocateKey: string;
  trackingNumber: string;
  carrier?: string;
}

export function createShippingActivities(db: Database, faults: Faults = noFaults) {
  return {
    async allocateShipment(req: AllocateRequest): Promise<Shipment> {
      const shipment = await db.transaction(async (tx) => {
        const existing = await shipmentByKey(tx, req.key);
        if (existing) return existing;
        const country = req.recipient.address.country;
        const carrier = CARRIERS[country];
        const base = { shipmentId: `shp-${req.orderId}`, orderId: req.orderId, country, trackingNumber: null };
        if (!carrier) {
          const reason = `no carrier delivers to ${country}`;
          await emit(tx, 'ShipmentUndeliverable', causeOf(req), { orderId: req.orderId, country, reason });
          return insertShipment(tx, req.key, { ...base, status: 'undeliverable', carrier: null, reason }, req.recipient);
        }
        await emit(tx, 'ShipmentAllocated', causeOf(req), {
          orderId: req.orderId,
          shipmentId: base.shipmentId,
          carrier,
          recipient: req.recipient,
        });
        return insertShipment(tx, req.key, { ...base, status: 'allocated', carrier, reason: null }, req.recipient);
      });
      await faults.afterCommit('allocateShipment', req.key);
      if (shipment.status === 'undeliverable')
        throw refusal(Refusal.AddressUndeliverable, `address undeliverable: ${shipment.reason ?? ''}`, shipment);
      return shipment;
    },

    /** The undo of allocateShipment. Safe when nothing was allocated: a no-op. */
    async cancelShipment(req: CancelShipmentRequest): Promise<ShipmentOperation> {
      const op = await db.transaction(async (tx) => {
        const existing = await operationByKey(tx, req.key);
        if (existing) return existing;
        const shipment = await shipmentByKey(tx, req.allocateKey);
        if (shipment?.status !== 'allocated')
          return insertOperation(tx, req.key, req.orderId, {
            kind: 'cancel',
            shipmentId: shipment?.shipmentId ?? null,
            applied: false,
          });
        await updateShipment(tx, shipment.shipmentId, 'cancelled');
        await emit(tx, 'ShipmentCancelled', causeOf(req), { orderId: req.orderId, shipmentId: shipment.shipmentId });
        return insertOperation(tx, req.key, req.orderId, { kind: 'cancel', shipmentId: shipment.shipmentId, applied: true });
      });
      await faults.afterCommit('cancelShipment', req.key);
      return op;
    },

    /** Records the warehouse's confirmation that the parcel left. */
    async recordDispatch(req: DispatchRequest): Promise<Shipment> {
      const shipment = await db.transaction(async (tx) => {
        const existing = await operationByKey(tx, req.key);
        if (existing?.shipmentId) return (await shipmentById(tx, existing.shipmentId)) as Shipment;
        const allocated = await shipmentByKey(tx, req.allocateKey);
        if (allocated?.status !== 'allocated') throw new Error(`cannot dispatch: shipment is ${allocated?.status ?? 'missing'}`);
        const carrier = req.carrier ?? allocated.carrier ?? 'unknown';
        await updateShipment(tx, allocated.shipmentId, 'dispatched', req.trackingNumber, carrier);
        await emit(tx, 'ShipmentDispatched', causeOf(req), {
          orderId: req.orderId,
          shipmentId: allocated.shipmentId,
          carrier,
          trackingNumber: req.trackingNumber,
        });
        await insertOperation(tx, req.key, req.orderId, { kind: 'dispatch', shipmentId: allocated.shipmentId, applied: true });
        return { ...allocated, status: 'dispatched' as const, carrier, trackingNumber: req.trackingNumber };
      });
      await faults.afterCommit('recordDispatch', req.key);
      return shipment;
    },
  };
}
