import { allHandlersFinished, condition, makeContinueAsNewFunc, patched, workflowInfo } from '@temporalio/workflow';
import { HISTORY_LIMIT, type OrderSagaInput, type SagaCarry } from './definitions';
import type { orderFulfillment } from './order-fulfillment';
import type { SagaState } from './state';

/**
 * The next run starts on the deployment's current version, also for a PINNED saga (whose next run
 * would otherwise inherit its pin): it starts from the state carried below, not from this run's
 * history, so nothing of the old code has to be replayed and the old build drains sooner. This is
 * why the carry (SagaCarry) is a contract between releases: each release reads the carry of the one
 * before. The option only shapes the continue-as-new command's routing, not which commands the
 * saga issues, so histories recorded without it replay unchanged (no patch; the corpus shows it).
 */
const nextRun = { initialVersioningBehavior: 'AUTO_UPGRADE' } as const;

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
    this.allowed ??= this.state.took('continue-as-new', () => patched('continue-as-new'));
    if (!this.allowed) return;
    await condition(allHandlersFinished);
    const carry: SagaCarry = {
      ...(this.limit !== HISTORY_LIMIT ? { historyLimit: this.limit } : {}),
      resumed: this.state.carry(),
    };
    await makeContinueAsNewFunc<typeof orderFulfillment>(nextRun)(this.order, carry);
  }
}
