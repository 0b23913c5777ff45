// Over 250 lines on purpose: the order view's fold, one case per event type, so every event's effect on the view is read in one place.
import { formatMoney } from '../../domain/money';
import type { Sql } from '../../platform/database';
import type { ApplyEvent } from '../event-consumer';

/**
 * The order view for customer care. Each event folds into the order's row. Events of one order
 * come from several topics (one per bounded context), and Kafka orders them only within a topic,
 * so the fold must not depend on arrival order across topics: the status is the furthest one
 * reached (by rank), amounts are sums, times keep the first value seen.
 */
export interface OrderViewRow {
  order_id: string;
  customer_id: string | null;
  status: string;
  status_rank: number;
  outcome_reason: string | null;
  escalated_waiting_for: string | null;
  currency: string | null;
  total_amount: number | null;
  item_count: number | null;
  authorized_amount: number;
  voided_amount: number;
  captured_amount: number;
  refunded_amount: number;
  carrier: string | null;
  tracking_number: string | null;
  submitted_at: string | null;
  confirmed_at: string | null;
  dispatched_at: string | null;
  finished_at: string | null;
  first_event_at: string;
  last_event_at: string;
  events_applied: number;
  updated_at: number;
}

export interface OrderEvent {
  type: string;
  orderId: string;
  time: string;
  data: Record<string, unknown>;
}

/** Customer-care statuses; a higher rank is further along (terminal ones are highest). */
const progress: Record<string, [status: string, rank: number]> = {
  OrderSubmitted: ['SUBMITTED', 10],
  PaymentAuthorizationPending: ['AWAITING_PAYMENT', 15],
  PaymentAuthorized: ['PAYMENT_AUTHORIZED', 20],
  StockReserved: ['STOCK_RESERVED', 30],
  ShipmentAllocated: ['SHIPMENT_ALLOCATED', 40],
  OrderConfirmed: ['CONFIRMED', 50],
  // Capture happens at confirmation or at dispatch (the order says which); dispatch is what the
  // customer asks about, so it outranks capture whichever came first.
  PaymentCaptured: ['PAYMENT_CAPTURED', 55],
  ShipmentDispatched: ['DISPATCHED', 60],
  // A refusal: the saga is undoing what it took and will end the order.
  PaymentDeclined: ['COMPENSATING', 80],
  StockUnavailable: ['COMPENSATING', 80],
  ShipmentUndeliverable: ['COMPENSATING', 80],
  OrderCompleted: ['COMPLETED', 100],
};
const TERMINAL_RANK = 100;

type Amount = { amount: number; currency: string };
const amountOf = (data: Record<string, unknown>, field = 'amount') => (data[field] as Amount | undefined)?.amount ?? 0;

export function emptyOrderView(orderId: string, time: string): OrderViewRow {
  return {
    order_id: orderId,
    customer_id: null,
    status: 'UNKNOWN',
    status_rank: 0,
    outcome_reason: null,
    escalated_waiting_for: null,
    currency: null,
    total_amount: null,
    item_count: null,
    authorized_amount: 0,
    voided_amount: 0,
    captured_amount: 0,
    refunded_amount: 0,
    carrier: null,
    tracking_number: null,
    submitted_at: null,
    confirmed_at: null,
    dispatched_at: null,
    finished_at: null,
    first_event_at: time,
    last_event_at: time,
    events_applied: 0,
    updated_at: 0,
  };
}

/** Pure: the order's row after one more event, whatever order the events came in. */
export function foldOrderView(current: OrderViewRow, e: OrderEvent): OrderViewRow {
  const row: OrderViewRow = {
    ...current,
    first_event_at: e.time < current.first_event_at ? e.time : current.first_event_at,
    last_event_at: e.time > current.last_event_at ? e.time : current.last_event_at,
    events_applied: current.events_applied + 1,
  };
  const reached = e.type === 'OrderCancelled' ? ([String(e.data.outcome), TERMINAL_RANK] as const) : progress[e.type];
  if (reached && reached[1] > row.status_rank) [row.status, row.status_rank] = reached;
  const d = e.data;
  switch (e.type) {
    case 'OrderSubmitted': {
      const total = d.total as Amount;
      row.customer_id = String(d.customerId);
      row.total_amount = total.amount;
      row.currency = total.currency;
      row.item_count = (d.lines as Array<{ quantity: number }>).reduce((n, l) => n + l.quantity, 0);
      row.submitted_at = e.time;
      break;
    }
    case 'OrderConfirmed':
      row.confirmed_at = e.time;
      break;
    case 'OrderCancelled':
      row.outcome_reason = String(d.reason);
      row.finished_at = e.time;
      break;
    case 'OrderCompleted':
      row.tracking_number = String(d.trackingNumber);
      row.finished_at = e.time;
      break;
    case 'OrderEscalated':
      row.escalated_waiting_for = String(d.waitingFor);
      break;
    case 'PaymentDeclined':
    case 'ShipmentUndeliverable':
      row.outcome_reason ??= String(d.reason);
      break;
    case 'StockUnavailable':
      row.outcome_reason ??= `out of stock: ${(d.shortages as Array<{ sku: string }>).map((s) => s.sku).join(', ')}`;
      break;
    case 'PaymentAuthorized':
      row.authorized_amount += amountOf(d);
      break;
    case 'PaymentVoided':
      row.voided_amount += amountOf(d);
      break;
    case 'PaymentCaptured':
      row.captured_amount += amountOf(d);
      break;
    case 'PaymentRefunded':
      row.refunded_amount += amountOf(d);
      break;
    case 'ShipmentAllocated':
      row.carrier = String(d.carrier);
      break;
    case 'ShipmentDispatched':
      row.tracking_number = String(d.trackingNumber);
      row.dispatched_at = String(d.dispatchedAt);
      break;
  }
  return row;
}

/** One line for the timeline; no personal data (names, emails, addresses) ever goes here. */
export function summarize(e: OrderEvent): string {
  const d = e.data;
  const money = (field = 'amount') => {
    const a = d[field] as Amount | undefined;
    return a ? formatMoney(a) : '';
  };
  switch (e.type) {
    case 'OrderSubmitted':
      return `submitted, ${money('total')}`;
    case 'OrderCancelled':
      return `${String(d.outcome).toLowerCase()}: ${String(d.reason)}`;
    case 'OrderCompleted':
      return `completed, tracking ${String(d.trackingNumber)}`;
    case 'OrderEscalated':
      return `escalated: waiting for ${String(d.waitingFor)}`;
    case 'PaymentDeclined':
      return `payment declined: ${String(d.reason)}`;
    case 'StockUnavailable':
      return `out of stock: ${(d.shortages as Array<{ sku: string }>).map((s) => s.sku).join(', ')}`;
    case 'ShipmentUndeliverable':
      return `undeliverable: ${String(d.reason)}`;
    case 'ShipmentAllocated':
      return `shipment allocated with ${String(d.carrier)}`;
    case 'ShipmentDispatched':
      return `dispatched, tracking ${String(d.trackingNumber)}`;
    default: {
      const words = e.type.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
      return d.amount ? `${words}, ${money()}` : words;
    }
  }
}

const columns: Array<keyof OrderViewRow> = [
  'order_id',
  'customer_id',
  'status',
  'status_rank',
  'outcome_reason',
  'escalated_waiting_for',
  'currency',
  'total_amount',
  'item_count',
  'authorized_amount',
  'voided_amount',
  'captured_amount',
  'refunded_amount',
  'carrier',
  'tracking_number',
  'submitted_at',
  'confirmed_at',
  'dispatched_at',
  'finished_at',
  'first_event_at',
  'last_event_at',
  'events_applied',
  'updated_at',
];

/**
 * Applies an event to the view inside the consumer's transaction. On PostgreSQL the row is locked
 * first: two group members may hold two topics of the same order and fold into it at once.
 */
export function projectOrderView(dialect: 'sqlite' | 'postgres'): ApplyEvent {
  const lock = dialect === 'postgres' ? ' FOR UPDATE' : '';
  return async (tx, event, origin) => {
    const e: OrderEvent = {
      type: event.type,
      orderId: event.envelope.subject,
      time: event.envelope.time,
      data: event.data as Record<string, unknown>,
    };
    const step = await tx.run(
      `INSERT INTO order_view_steps (event_id, order_id, type, written_version, occurred_at, topic, kafka_partition, kafka_offset, summary, applied_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`,
      [
        event.envelope.id,
        e.orderId,
        e.type,
        event.writtenVersion,
        e.time,
        origin.topic,
        origin.partition,
        origin.offset,
        summarize(e),
        Date.now(),
      ],
    );
    // Already folded: an event redelivered after its dedupe row was pruned, while its step was not.
    if (step.changes === 0) return;
    // The row exists before it is locked, so two members seeing a new order do not both insert it.
    const empty = emptyOrderView(e.orderId, e.time);
    await tx.run(
      `INSERT INTO order_view (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ON CONFLICT (order_id) DO NOTHING`,
      columns.map((c) => empty[c]),
    );
    const current = (await tx.get<OrderViewRow>(`SELECT * FROM order_view WHERE order_id = ?${lock}`, [
      e.orderId,
    ])) as OrderViewRow;
    await save(tx, { ...foldOrderView(numeric(current), e), updated_at: Date.now() });
  };
}

async function save(tx: Sql, row: OrderViewRow): Promise<void> {
  const set = columns
    .slice(1)
    .map((c) => `${c} = ?`)
    .join(', ');
  await tx.run(`UPDATE order_view SET ${set} WHERE order_id = ?`, [...columns.slice(1).map((c) => row[c]), row.order_id]);
}

/** SQLite and pg agree on numbers here (BIGINT parses to number), but be explicit about it. */
function numeric(row: OrderViewRow): OrderViewRow {
  return {
    ...row,
    status_rank: Number(row.status_rank),
    authorized_amount: Number(row.authorized_amount),
    voided_amount: Number(row.voided_amount),
    captured_amount: Number(row.captured_amount),
    refunded_amount: Number(row.refunded_amount),
    events_applied: Number(row.events_applied),
  };
}
