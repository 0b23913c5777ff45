import type { Client } from '@temporalio/client';
import type { Participants } from '../activities';
import { idempotencyKey, workflowIdFor } from '../domain/ids';
import type { Database } from '../platform/database';
import { markRepaired, type Finding } from './findings';
import { ruleOf } from './rules';
import { sagaSituation } from './sagas';

/**
 * An automatic repair runs the participant's own operation: the undo the saga should have run, or
 * the escalation it owed. Its idempotency key lives in the saga's key space (`order-<id>/…`): an
 * undo under `reconcile-<undo>-<occurrence>` (the saga's own undo key may already hold a no-op
 * answer from an undo that ran too early), an escalation under the saga's own escalation key. Two
 * overlapping repairs of one finding send the same key, so the participant applies it once, and
 * only the first records the finding repaired.
 */
export type RepairOutcome =
  | { outcome: 'repaired'; recorded: boolean; key: string; result: unknown }
  | { outcome: 'deferred'; reason: string }
  | { outcome: 'skipped'; reason: string };

export async function repairFinding(
  f: Finding,
  { db, participants, client }: { db: Database; participants: Participants; client: Client },
): Promise<RepairOutcome> {
  const rule = ruleOf(f.rule);
  if (rule.handling !== 'automatic' || !rule.repair) return { outcome: 'skipped', reason: 'goes to the operator queue' };
  if (f.state !== 'open' && f.state !== 'acknowledged') return { outcome: 'skipped', reason: `already ${f.state}` };
  const orderId = f.orderId;
  if (!orderId) return { outcome: 'skipped', reason: 'no order to repair' };
  const workflowId = workflowIdFor(orderId);
  const text = (name: string) => {
    const value = f.detail[name];
    if (typeof value !== 'string') throw new Error(`finding ${f.id} lacks ${name}`);
    return value;
  };

  let key: string;
  let result: unknown;
  if (rule.repair === 'escalateOrder') {
    key = text('escalateKey');
    const waitingFor = text('waitingFor') as 'payment' | 'dispatch';
    result = await participants.orders.escalateOrder({
      orderId,
      workflowId,
      key,
      waitingFor,
      slaSeconds: Number(f.detail.slaSeconds),
    });
  } else {
    // Never undo under a live saga: it may still be about to do it, or to need what is held.
    const saga = await sagaSituation(client, orderId);
    if (saga.kind === 'waiting' || saga.kind === 'busy') return { outcome: 'deferred', reason: `saga is ${saga.status}` };
    key = idempotencyKey(workflowId, `reconcile-${rule.repair}-${f.occurrence}`);
    result =
      rule.repair === 'voidAuthorization'
        ? await participants.payments.voidAuthorization({ orderId, workflowId, key, authorizeKey: text('authorizeKey') })
        : await participants.inventory.releaseStock({ orderId, workflowId, key, reserveKey: text('reserveKey') });
  }
  const recorded = await markRepaired(db, { id: f.id, occurrence: f.occurrence, key, result });
  return { outcome: 'repaired', recorded, key, result };
}
