import { z } from 'zod';

/**
 * The shipping context. The recipient's name and address are carried by ShipmentAllocated only:
 * the carrier label needs them, nothing downstream of allocation does.
 */
export const Address = z.object({
  line1: z.string(),
  line2: z.string().optional(),
  city: z.string(),
  postalCode: z.string(),
  country: z.string().regex(/^[A-Z]{2}$/),
});

export const ShipmentAllocatedV1 = z.object({
  orderId: z.string(),
  shipmentId: z.string(),
  carrier: z.string(),
  recipient: z.object({ name: z.string(), address: Address }),
});
export const ShipmentUndeliverableV1 = z.object({ orderId: z.string(), country: z.string(), reason: z.string() });
export const ShipmentCancelledV1 = z.object({ orderId: z.string(), shipmentId: z.string() });
export const ShipmentDispatchedV1 = z.object({
  orderId: z.string(),
  shipmentId: z.string(),
  carrier: z.string(),
  trackingNumber: z.string(),
});
/**
 * v2 says when the parcel left: the moment of hand-over, not when the event was written (a
 * warehouse may report late). v1 events are upcast with their envelope time (events/catalog/upcasters.ts).
 */
export const ShipmentDispatchedV2 = ShipmentDispatchedV1.extend({ dispatchedAt: z.iso.datetime({ offset: true }) });

export const shippingEvents = {
  ShipmentAllocated: {
    context: 'shipping',
    description: 'A carrier and warehouse slot were booked for the order.',
    versions: { 1: ShipmentAllocatedV1 },
  },
  ShipmentUndeliverable: {
    context: 'shipping',
    description: 'No carrier delivers to the order’s address; nothing was booked.',
    versions: { 1: ShipmentUndeliverableV1 },
  },
  ShipmentCancelled: {
    context: 'shipping',
    description: 'A booked shipment was cancelled before dispatch.',
    versions: { 1: ShipmentCancelledV1 },
  },
  ShipmentDispatched: {
    context: 'shipping',
    description: 'The warehouse handed the parcel to the carrier.',
    versions: { 1: ShipmentDispatchedV1, 2: ShipmentDispatchedV2 },
  },
} as const;
