import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
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
 * Which changes of SagaStep and SagaStatus are upserted. Before release 1.6 every step's
 * (`every-step`). Release 1.6 (`status-and-finishing-steps`): the status changes, each undo while
 * compensating, and each step past dispatch. Release 1.7 (`status`): the status changes and the
 * undos; past dispatch SagaStep stays at `awaitDispatch` while SagaStatus is RUNNING, and the
 * current details and the `saga` query name the step.
 */
export type VisibilityRule = 'every-step' | 'status-and-finishing-steps' | 'status';

/**
 * What an operator sees of a saga in the Temporal UI: search attributes to find it (OrderId,
 * CustomerId, SagaStep, SagaStatus) and current details that say in words what it waits for.
 *
 * Each upsert is an event in the history and a visibility write on the server: per step they were
 * the saga's largest cost against a bare workflow (bench:saga). So the attributes change with the
 * status, plus each undo while compensating (an undo retries in rounds without end, and the
 * operator must see which). A forward step before dispatch either finishes or fails the saga
 * within its retry window (~26 s), so SagaStep names the step the saga last waited or ended in;
 * the current details and the `saga` query follow every step. Release 1.6 also upserted each step
 * past dispatch (those retry until they succeed); 1.7 stopped, since a saga RUNNING past
 * `awaitDispatch` is finishing and its details say where. What the start already set (the typed
 * client sets all four; a continued run inherits them) is not upserted again.
 */
export class Visibility {
  private shown = { step: '', status: '' };

  constructor(
    private readonly state: SagaState,
    private readonly rule: VisibilityRule,
  ) {}

  /** Tags the saga with the order and the customer, once, at its start. */
  tag(order: OrderSagaInput): void {
    if (this.rule === 'every-step') {
      upsertSearchAttributes([
        { key: OrderIdAttribute, value: order.orderId },
        { key: CustomerIdAttribute, value: order.customer.id },
      ]);
      this.show();
      return;
    }
    const current = workflowInfo().typedSearchAttributes;
    // Templates, not `??`: an attribute the start did not set reads "undefined", never a status, so
    // a start without them (a schedule, the UI, a script) gets all four in its first upsert.
    this.shown = { step: `${current.get(SagaStepAttribute)}`, status: `${current.get(SagaStatusAttribute)}` };
    const tags: SearchAttributeUpdatePair[] = [
      { key: OrderIdAttribute, value: order.orderId },
      { key: CustomerIdAttribute, value: order.customer.id },
    ];
    this.show(tags.filter((tag) => current.get(tag.key) !== tag.value));
  }

  setStatus(status: SagaStatus): void {
    this.state.progress.status = status;
    this.show();
  }

  show(also: SearchAttributeUpdatePair[] = []): void {
    const { progress } = this.state;
    const step = progress.currentStep ?? 'none';
    const statusChanged = this.shown.status !== progress.status;
    const stepChanged = this.shown.step !== step;
    const stepShown =
      this.rule === 'every-step' ||
      progress.status === SagaStatus.COMPENSATING ||
      (this.rule === 'status-and-finishing-steps' && this.state.dispatched);
    const shown = statusChanged || (stepChanged && stepShown);
    if (shown || also.length > 0) {
      upsertSearchAttributes([
        ...also,
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
