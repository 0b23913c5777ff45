import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { SagaStatus, type CompensationName } from '../domain/saga';
import {
  CustomerIdAttribute,
  OrderIdAttribute,
  SagaStatusAttribute,
  SagaStepAttribute,
  SLA_SECONDS,
  type CompensationRecord,
  type OrderSagaInput,
} from './definitions';
import type { SagaState } from './state';

/**
 * What an operator sees of a saga in the Temporal UI: search attributes to find it (OrderId,
 * CustomerId, SagaStep, SagaStatus) and current details that say in words what it waits for.
 * Search attributes are upserted only when they change: each upsert is an event in the history.
 */
export class Visibility {
  private shown = { step: '', status: '' };

  constructor(private readonly state: SagaState) {}

  /** Tags the saga with the order and the customer, once, at its start. */
  tag(order: OrderSagaInput): void {
    upsertSearchAttributes([
      { key: OrderIdAttribute, value: order.orderId },
      { key: CustomerIdAttribute, value: order.customer.id },
    ]);
    this.show();
  }

  setStatus(status: SagaStatus): void {
    this.state.progress.status = status;
    this.show();
  }

  show(): void {
    const { progress } = this.state;
    const step = progress.currentStep ?? 'none';
    if (this.shown.step !== step || this.shown.status !== progress.status) {
      upsertSearchAttributes([
        { key: SagaStepAttribute, value: step },
        { key: SagaStatusAttribute, value: progress.status },
      ]);
      this.shown = { step, status: progress.status };
    }
    setCurrentDetails(this.details());
  }

  /** The undo list changed: while compensating, the running undo is the current step. */
  undosChanged(records: readonly CompensationRecord[]): void {
    const { progress } = this.state;
    progress.compensations = records.map((r) => ({ ...r }));
    if (progress.status !== SagaStatus.COMPENSATING) return;
    const running = records.find((r) => r.state === 'running' || r.state === 'retrying');
    if (running) progress.currentStep = running.name as CompensationName;
    this.show();
  }

  private details(): string {
    const { progress, outcome } = this.state;
    const stuck = progress.compensations.find((r) => r.state === 'retrying');
    if (stuck) {
      return `**Compensation stuck**: \`${stuck.name}\` has failed ${stuck.rounds} round(s), retrying. Last error: ${stuck.lastError ?? 'unknown'}`;
    }
    switch (progress.status) {
      case 'AWAITING_PAYMENT':
        return `**Waiting for the payment provider** (webhook) since ${new Date().toISOString()}; escalates after ${SLA_SECONDS.paymentResult} s. Cancellable.`;
      case 'AWAITING_DISPATCH':
        return `**Waiting for the warehouse to dispatch** since ${new Date().toISOString()}; escalates after ${SLA_SECONDS.dispatch} s. Cancellable until dispatch.`;
      case 'ESCALATED':
        return `**Escalated**: waited longer than the SLA for ${progress.escalations.at(-1)?.waitingFor ?? 'an answer'}; still waiting. Cancel or answer it.`;
      default:
        return outcome
          ? `**${outcome.status}**${outcome.reason ? `: ${outcome.reason}` : ''}`
          : `Step \`${progress.currentStep ?? 'starting'}\` (${progress.status})`;
    }
  }
}
