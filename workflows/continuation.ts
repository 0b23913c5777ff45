import { allHandlersFinished, condition, continueAsNew, patched, workflowInfo } from '@temporalio/workflow';
import { HISTORY_LIMIT, type OrderSagaInput, type SagaCarry } from './definitions';
import type { orderFulfillment } from './order-fulfillment';
import type { SagaState } from './state';

/**
 * Keeps a saga's history bounded: a stuck undo or a flood of messages would otherwise grow it until
 * the server terminates the saga with its undos unfinished. Past the limit (or when the server
 * suggests it) the run continues as new between two rounds or two messages, carrying its state.
 */
export class Continuation {
  private allowed: boolean | undefined;

  constructor(
    private readonly order: OrderSagaInput,
    private readonly state: SagaState,
    private readonly limit = HISTORY_LIMIT,
  ) {}

  /** Whether this run's history has grown far enough to hand over; a pure read, safe in conditions. */
  due(): boolean {
    if (this.allowed === false) return false;
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= this.limit;
  }

  /** Continues as new when due; returns when not (or when this execution predates the change). */
  async ifDue(): Promise<void> {
    if (!this.due()) return;
    // Release 1.2: an execution that replays from before it keeps its old, unbounded behaviour.
    this.allowed ??= this.state.took('continue-as-new', patched('continue-as-new'));
    if (!this.allowed) return;
    await condition(allHandlersFinished);
    const carry: SagaCarry = {
      ...(this.limit !== HISTORY_LIMIT ? { historyLimit: this.limit } : {}),
      resumed: this.state.carry(),
    };
    await continueAsNew<typeof orderFulfillment>(this.order, carry);
  }
}
