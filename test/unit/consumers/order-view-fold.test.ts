// Invariant: the order view does not depend on the order in which events of different topics
// arrive: any interleaving of one saga's events folds to the same row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readExamples } from '../../../events/examples';
import type { Envelope } from '../../../events/envelope';
import { eventSources } from '../../../versioning/event-sources';
import { emptyOrderView, foldOrderView, type OrderEvent } from '../../../consumers/order-view/projection';

const data = new Map(
  readExamples(eventSources.examplesDir).map((e) => [
    `${e.type}.v${e.version}`,
    (e.envelope as Envelope).data as Record<string, unknown>,
  ]),
);
const at = (minute: number) => `2026-11-21T10:${String(minute).padStart(2, '0')}:00.000Z`;
const event = (type: string, minute: number, version = 1): OrderEvent => ({
  type,
  orderId: 'ord-1',
  time: at(minute),
  data: data.get(`${type}.v${version}`) as Record<string, unknown>,
});

const completed = [
  event('OrderSubmitted', 1),
  event('PaymentAuthorized', 2),
  event('StockReserved', 3),
  event('ShipmentAllocated', 4),
  event('OrderConfirmed', 5),
  event('ShipmentDispatched', 6, 2),
  event('PaymentCaptured', 7),
  event('OrderCompleted', 8),
];
const declined = [event('OrderSubmitted', 1), event('PaymentDeclined', 2), event('OrderCancelled', 3)];
const refunded = [...completed.slice(0, 7), event('PaymentRefunded', 9), event('OrderCancelled', 10)];

/** A small deterministic generator, so a failure names a reproducible order. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const fold = (events: OrderEvent[]) => events.reduce(foldOrderView, emptyOrderView('ord-1', (events[0] as OrderEvent).time));

for (const [name, saga, status] of [
  ['completed', completed, 'COMPLETED'],
  ['declined', declined, 'REJECTED'],
  ['cancelled after capture', refunded, 'REJECTED'],
] as const) {
  test(`a ${name} saga folds to the same row in any arrival order`, () => {
    const expected = fold([...saga]);
    assert.equal(expected.status, status);
    for (let seed = 1; seed <= 300; seed++) assert.deepEqual(fold(shuffled([...saga], seed)), expected, `seed ${seed}`);
  });
}

test('the row carries what customer care asks about', () => {
  const row = fold([...refunded]);
  assert.equal(row.first_event_at, at(1));
  assert.equal(row.last_event_at, at(10));
  assert.equal(row.captured_amount, 3100);
  assert.equal(row.refunded_amount, 3100);
  assert.equal(row.outcome_reason, 'payment declined: insufficient funds');
  assert.equal(row.dispatched_at, '2026-11-21T09:30:00.000Z');
  assert.equal(row.events_applied, 9);
});
