// Invariant: fraud screening (release 1.1) is a participant like the others, on both stores: one
// screening per saga under its business key (a retry gets the first verdict and publishes
// nothing twice), the verdict and its FraudScreened event commit together, and a rejection is a
// typed, non-retryable business refusal.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createParticipants, participantMigrations, type Participants } from '../../../../activities';
import { assess, FRAUD_TEST_TOKEN } from '../../../../activities/fraud/operations';
import type { Database } from '../../../../platform/database';
import { migrate } from '../../../../platform/migrations';
import { bothStores, type TestDatabase } from '../../../databases';
import { countRows, eventsOf, uniqueId } from '../../workflows/harness';

const eur = (amount: number) => ({ amount, currency: 'EUR' });
const request = (orderId: string, methodToken = 'tok_visa', amount = 3100) => ({
  orderId,
  workflowId: `order-${orderId}`,
  key: `order-${orderId}/screenOrder`,
  customerId: 'cust-1',
  total: eur(amount),
  methodToken,
  shippingCountry: 'DE',
});

test('the rules: a blocked token is certain fraud, a big basket adds risk', () => {
  assert.deepEqual(assess({ total: eur(3100), methodToken: 'tok_visa' }), { score: 5, signals: [] });
  assert.deepEqual(assess({ total: eur(600_000), methodToken: 'tok_visa' }), { score: 45, signals: ['high-value'] });
  assert.deepEqual(assess({ total: eur(100), methodToken: FRAUD_TEST_TOKEN }), {
    score: 100,
    signals: ['blocked-payment-method'],
  });
});

for (const store of bothStores) {
  describe(`fraud screening on ${store.kind}`, () => {
    let testDb: TestDatabase;
    let db: Database;
    let p: Participants;
    before(async () => {
      testDb = await store.create();
      db = testDb.open();
      await migrate(db, participantMigrations);
      p = createParticipants(db);
    });
    after(async () => {
      await db.close();
      await testDb.drop();
    });

    test('a clear order is screened once, with its event', async () => {
      const orderId = uniqueId('screen');
      const first = await p.fraud.screenOrder(request(orderId));
      const again = await p.fraud.screenOrder({ ...request(orderId), methodToken: FRAUD_TEST_TOKEN });
      assert.deepEqual(again, first, 'a retry gets the first verdict, whatever it carries');
      assert.equal(first.verdict, 'clear');
      assert.equal(await countRows(db, 'fraud_screenings', orderId), 1);
      assert.deepEqual(await eventsOf(db, orderId), ['FraudScreened']);
      const row = await db.get<{ envelope: string }>('SELECT envelope FROM outbox WHERE msg_key = ?', [orderId]);
      const envelope = JSON.parse(row?.envelope ?? '{}') as { source: string; data: { verdict: string; score: number } };
      assert.equal(envelope.source, '/trapeze/fraud');
      assert.deepEqual([envelope.data.verdict, envelope.data.score], ['clear', 5]);
    });

    test('a rejected order is refused as FraudSuspected, again on retry, with one event', async () => {
      const orderId = uniqueId('fraud');
      await assert.rejects(() => p.fraud.screenOrder(request(orderId, FRAUD_TEST_TOKEN)), {
        type: 'FraudSuspected',
        nonRetryable: true,
      });
      await assert.rejects(() => p.fraud.screenOrder(request(orderId, 'tok_visa')), { type: 'FraudSuspected' });
      assert.deepEqual(await eventsOf(db, orderId), ['FraudScreened']);
    });
  });
}
