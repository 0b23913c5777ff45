import { z } from 'zod';
import { StockLine } from './values';

/** The inventory context: stock levels per SKU, reservations per order. */
export const StockReservedV1 = z.object({ orderId: z.string(), reservationId: z.string(), lines: z.array(StockLine) });
export const StockUnavailableV1 = z.object({
  orderId: z.string(),
  shortages: z.array(z.object({ sku: z.string(), requested: z.number().int(), available: z.number().int() })),
});
export const StockReleasedV1 = z.object({ orderId: z.string(), reservationId: z.string(), lines: z.array(StockLine) });

export const inventoryEvents = {
  StockReserved: { context: 'inventory', description: 'Stock was set aside for an order.', versions: { 1: StockReservedV1 } },
  StockUnavailable: {
    context: 'inventory',
    description: 'An order asked for more than is in stock; nothing was reserved.',
    versions: { 1: StockUnavailableV1 },
  },
  StockReleased: {
    context: 'inventory',
    description: 'A reservation was given back to stock.',
    versions: { 1: StockReleasedV1 },
  },
} as const;
