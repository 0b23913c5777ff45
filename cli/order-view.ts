import type { Command } from 'commander';
import { orderViewMigrations } from '../consumers/order-view/migrations';
import { findOrdersOfCustomer, findOrderView } from '../consumers/order-view/query';
import { migrate } from '../platform/migrations';
import { act, CliError, EXIT, type Context } from './context';

/** `trapeze order-view show|customer`: customer care's look-up in the order view projection. */
export function orderViewCommands(program: Command, ctx: Context): void {
  const group = program.command('order-view').description("customer care's look-up in the order view projection");
  // Migrated like the consumer does: before the first event, the view is empty, not missing.
  const db = async () => {
    const d = ctx.database(ctx.config.orderView.databaseUrl);
    await migrate(d, orderViewMigrations);
    return d;
  };

  group
    .command('show')
    .description('where the order stands and every step so far (exit 4: not in the view yet)')
    .argument('<orderId>')
    .action(
      act(ctx, async (orderId: string) => {
        const view = await findOrderView(await db(), orderId);
        if (!view) throw new CliError(`no order ${orderId} in the order view (yet)`, EXIT.notFound);
        const money = (n: number | null) => (n === null ? '—' : `${(n / 100).toFixed(2)} ${view.amounts.currency ?? ''}`);
        const a = view.amounts;
        ctx.emit(view, () => [
          `order ${view.orderId} (customer ${view.customerId ?? '?'}): ${view.status}${view.reason ? ` — ${view.reason}` : ''}`,
          ...(view.escalatedWaitingFor ? [`  escalated: waiting for ${view.escalatedWaitingFor}`] : []),
          `  total ${money(a.total)}; authorized ${money(a.authorized)}, voided ${money(a.voided)}, captured ${money(a.captured)}, refunded ${money(a.refunded)}`,
          ...(view.shipping.carrier
            ? [
                `  shipping: ${view.shipping.carrier}${view.shipping.trackingNumber ? `, tracking ${view.shipping.trackingNumber}` : ''}`,
              ]
            : []),
          ...view.steps.map((s) => `  ${s.occurredAt}  ${s.type.padEnd(28)} ${s.summary}`),
        ]);
      }),
    );

  group
    .command('customer')
    .description("the customer's orders, latest activity first")
    .argument('<customerId>')
    .action(
      act(ctx, async (customerId: string) => {
        const orders = await findOrdersOfCustomer(await db(), customerId);
        ctx.emit({ customerId, orders }, () => [
          ...orders.map((o) => `${o.order_id}  ${o.status.padEnd(18)}  ${o.last_event_at}`),
          `${orders.length} order(s)`,
        ]);
      }),
    );
}
