// Invariant: on PostgreSQL, events of one order applied concurrently (members holding different
// topics) all fold into its row: the row is locked, no update is lost.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { projectOrderView } from '../../../consumers/order-view/projection';
import { orderViewMigrations } from '../../../consumers/order-view/migrations';
import { recordProcessed } from '../../../consumers/processed-events';
import { catalog } from '../../../events/catalog';
import { upcasters } from '../../../events/catalog/upcasters';
import { upcast } from '../../../events/upcasting';
import { migrate } from '../../../platform/migrations';
import { postgresDatabase } from '../../databases';
import { completedSaga } from './harness';

test('eight events of each of 40 orders applied all at once leave every row complete', async () => {
  const store = await postgresDatabase();
  const db = store.open();
  try {
    await migrate(db, orderViewMigrations);
    const apply = projectOrderView('postgres');
    const orders = Array.from({ length: 40 }, () => `lock-${randomUUID().slice(0, 8)}`);
    const events = orders.flatMap((id) => completedSaga(id)).map((env) => upcast(catalog, upcasters, env));
    await Promise.all(
      events.map((event, i) =>
        db.transaction(async (tx) => {
          if (
            await recordProcessed(tx, 'order-view', event.envelope.id, event.type, {
              topic: 't',
              partition: 0,
              offset: String(i),
            })
          ) {
            await apply(tx, event, { topic: 't', partition: 0, offset: String(i) });
          }
        }),
      ),
    );
    const rows = await db.all<{ status: string; events_applied: number; authorized_amount: number; captured_amount: number }>(
      'SELECT status, events_applied, authorized_amount, captured_amount FROM order_view',
    );
    assert.equal(rows.length, orders.length);
    assert.deepEqual(
      new Set(rows.map((r) => `${r.status}/${r.events_applied}/${r.authorized_amount}/${r.captured_amount}`)),
      new Set(['COMPLETED/8/3100/3100']),
    );
  } finally {
    await db.close();
    await store.drop();
  }
});
