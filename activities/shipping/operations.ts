import type { Database } from '../../platform/database';
import { Refusal } from '../../domain/saga';
import { emit } from '../emit';
import { causeOf, noFaults, refusal, type Faults, type StepRef } from '../step';
import { alreadyUndone, bury, tombstoneOf, transact } from '../tcc';
import {
  cancelledBy,
  insertOperation,
  insertShipment,
  operationByKey,
  shipmentByKey,
  moveShipment,
  shipmentById,
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

const TOMBSTONES = 'shipment_tombstones';

export function createShippingActivities(db: Database, faults: Faults = noFaults) {
  return {
    /** Books a carrier; refuses (StepAlreadyUndone) after cancelShipment found nothing to cancel and buried its key. */
    async allocateShipment(req: AllocateRequest): Promise<Shipment> {
      const shipment = await transact(db, async (tx) => {
        await tx.lock(req.key);
        const existing = await shipmentByKey(tx, req.key);
        if (existing) return existing;
        const buried = await tombstoneOf(tx, TOMBSTONES, req.key);
        if (buried) throw alreadyUndone('allocateShipment', req.key, buried.undoKey, 'the allocation');
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

    /**
     * The undo of allocateShipment. With no allocation it buries the allocation's key, so a late
     * allocateShipment refuses. A dispatched parcel is past the point of no return: not cancelled.
     */
    async cancelShipment(req: CancelShipmentRequest): Promise<ShipmentOperation> {
      const op = await transact(db, async (tx) => {
        await tx.lock(req.allocateKey);
        const existing = await operationByKey(tx, req.key);
        if (existing) return existing;
        const shipment = await shipmentByKey(tx, req.allocateKey);
        if (!shipment) await bury(tx, TOMBSTONES, { forwardKey: req.allocateKey, undoKey: req.key, orderId: req.orderId });
        if (shipment?.status !== 'allocated')
          return insertOperation(tx, req.key, req.orderId, {
            kind: 'cancel',
            shipmentId: shipment?.shipmentId ?? null,
            applied: false,
          });
        // Whichever of this and recordDispatch commits first wins; the other sees its state.
        await moveShipment(tx, shipment.shipmentId, 'allocated', 'cancelled');
        await emit(tx, 'ShipmentCancelled', causeOf(req), { orderId: req.orderId, shipmentId: shipment.shipmentId });
        return insertOperation(tx, req.key, req.orderId, { kind: 'cancel', shipmentId: shipment.shipmentId, applied: true });
      });
      await faults.afterCommit('cancelShipment', req.key);
      return op;
    },

    /**
     * Records the warehouse's confirmation that the parcel left. Refuses (StepAlreadyUndone) when
     * the allocation was cancelled (or buried) first: a cancelled booking cannot be dispatched.
     */
    async recordDispatch(req: DispatchRequest): Promise<Shipment> {
      const shipment = await transact(db, async (tx) => {
        await tx.lock(req.key);
        const existing = await operationByKey(tx, req.key);
        if (existing?.shipmentId) return (await shipmentById(tx, existing.shipmentId)) as Shipment;
        const allocated = await shipmentByKey(tx, req.allocateKey);
        const buried = allocated ? undefined : await tombstoneOf(tx, TOMBSTONES, req.allocateKey);
        if (buried) throw alreadyUndone('recordDispatch', req.key, buried.undoKey, 'the allocation');
        if (allocated?.status === 'cancelled') {
          const by = (await cancelledBy(tx, allocated.shipmentId)) ?? 'cancelShipment';
          throw alreadyUndone('recordDispatch', req.key, by, `shipment ${allocated.shipmentId}`);
        }
        if (allocated?.status !== 'allocated') throw new Error(`cannot dispatch: shipment is ${allocated?.status ?? 'missing'}`);
        const carrier = req.carrier ?? allocated.carrier ?? 'unknown';
        await moveShipment(tx, allocated.shipmentId, 'allocated', 'dispatched', req.trackingNumber, carrier);
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
