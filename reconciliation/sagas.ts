import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { workflowIdFor } from '../domain/ids';
import { SagaStatus } from '../domain/saga';
import { sagaQuery, SagaStatusAttribute, type Escalation } from '../workflows/definitions';

/**
 * Where an order's saga stands, as the reconciliation needs it: absent (no saga, e.g. rows written
 * by hand or an order older than the server's retention), closed (its ledger rows are final),
 * waiting at a wait point (stable: nothing moves until an answer arrives) or busy (mid-step or
 * compensating: the ledgers may show a combination that is fine a moment later).
 */
export type SagaSituation =
  | { kind: 'absent' }
  | { kind: 'closed'; workflowStatus: string }
  | { kind: 'waiting'; status: SagaStatus }
  | { kind: 'busy'; status: string };

const WAITING: readonly string[] = [SagaStatus.AWAITING_PAYMENT, SagaStatus.AWAITING_DISPATCH, SagaStatus.ESCALATED];

/** From the workflow's description: its execution status and the SagaStatus search attribute. */
export async function sagaSituation(client: Client, orderId: string): Promise<SagaSituation> {
  try {
    const d = await client.workflow.getHandle(workflowIdFor(orderId)).describe();
    if (d.status.name !== 'RUNNING') return { kind: 'closed', workflowStatus: d.status.name };
    const status = d.typedSearchAttributes.get(SagaStatusAttribute) ?? 'RUNNING';
    return WAITING.includes(status) ? { kind: 'waiting', status: status as SagaStatus } : { kind: 'busy', status };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { kind: 'absent' };
    throw err;
  }
}

/**
 * The escalations the saga itself recorded (the `saga` query), or undefined when it cannot answer
 * in time (no saga worker polling): then nothing is concluded about it this run.
 */
export async function sagaEscalations(client: Client, orderId: string, timeoutMs = 5_000): Promise<Escalation[] | undefined> {
  try {
    const progress = await client.connection.withDeadline(Date.now() + timeoutMs, () =>
      client.workflow.getHandle(workflowIdFor(orderId)).query(sagaQuery),
    );
    return progress.escalations;
  } catch {
    return undefined;
  }
}
