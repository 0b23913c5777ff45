import { createHash } from 'node:crypto';
import { z } from 'zod';

/** The bounded contexts; each has one Kafka topic. */
export const BoundedContext = z.enum(['orders', 'payments', 'inventory', 'shipping', 'fraud', 'reconciliation']);
export type BoundedContext = z.infer<typeof BoundedContext>;

export const topicFor = (context: BoundedContext): string => `trapeze.${context}`;

/** CloudEvents 1.0 attributes plus Trapeze's extensions; `data` is typed by the catalog. */
export const Envelope = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  subject: z.string().min(1),
  datacontenttype: z.literal('application/json'),
  schemaversion: z.number().int().positive(),
  correlationid: z.string().min(1),
  causationid: z.string().min(1),
  traceparent: z.string().optional(),
  data: z.unknown(),
});
export type Envelope = z.infer<typeof Envelope>;

export interface NewEvent {
  context: BoundedContext;
  type: string;
  schemaVersion: number;
  /** The order id: the subject, the Kafka key, and so the unit of ordering. */
  orderId: string;
  /** The business idempotency key of the operation that caused the event (workflow id + step). */
  causationId: string;
  /** The saga's workflow id, shared by every event of one order. */
  correlationId: string;
  data: unknown;
  time?: Date;
  traceparent?: string;
}

/**
 * The event id is derived from the operation's idempotency key and the event type, never random:
 * an operation that commits twice under the same key cannot produce two different events.
 */
export function eventId(causationId: string, type: string): string {
  const h = createHash('sha256').update(`${causationId}\u0000${type}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function envelope(e: NewEvent): Envelope {
  return Envelope.parse({
    specversion: '1.0',
    id: eventId(e.causationId, e.type),
    source: `/trapeze/${e.context}`,
    type: e.type,
    time: (e.time ?? new Date()).toISOString(),
    subject: e.orderId,
    datacontenttype: 'application/json',
    schemaversion: e.schemaVersion,
    correlationid: e.correlationId,
    causationid: e.causationId,
    ...(e.traceparent ? { traceparent: e.traceparent } : {}),
    data: e.data,
  });
}
