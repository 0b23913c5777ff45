import { findOrdersOfCustomer, findOrderView } from '../consumers/order-view/query';
import { openDatabase } from '../platform/database';
import { readConfig } from '../platform/config';

/**
 * Customer care's look-up:
 *   npm run order-view -- <orderId>                 where the order stands and every step so far
 *   npm run order-view -- --customer <customerId>   the customer's orders, latest activity first
 */
async function main(args: string[]): Promise<number> {
  const db = openDatabase(readConfig().orderView.databaseUrl);
  try {
    if (args[0] === '--customer' && args[1]) {
      const orders = await findOrdersOfCustomer(db, args[1]);
      for (const o of orders) console.log(`${o.order_id}  ${o.status.padEnd(18)}  ${o.last_event_at}`);
      console.log(`${orders.length} order(s)`);
      return 0;
    }
    if (!args[0]) {
      console.error('usage: npm run order-view -- <orderId> | --customer <customerId>');
      return 2;
    }
    const view = await findOrderView(db, args[0]);
    if (!view) {
      console.error(`no order ${args[0]} in the order view (yet)`);
      return 1;
    }
    const money = (n: number | null) => (n === null ? '—' : `${(n / 100).toFixed(2)} ${view.amounts.currency ?? ''}`);
    console.log(
      `order ${view.orderId} (customer ${view.customerId ?? '?'}): ${view.status}${view.reason ? ` — ${view.reason}` : ''}`,
    );
    if (view.escalatedWaitingFor) console.log(`  escalated: waiting for ${view.escalatedWaitingFor}`);
    const a = view.amounts;
    console.log(
      `  total ${money(a.total)}; authorized ${money(a.authorized)}, voided ${money(a.voided)}, captured ${money(a.captured)}, refunded ${money(a.refunded)}`,
    );
    if (view.shipping.carrier)
      console.log(
        `  shipping: ${view.shipping.carrier}${view.shipping.trackingNumber ? `, tracking ${view.shipping.trackingNumber}` : ''}`,
      );
    for (const s of view.steps) console.log(`  ${s.occurredAt}  ${s.type.padEnd(28)} ${s.summary}`);
    return 0;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
