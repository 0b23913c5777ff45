import { SagaStatus, type TerminalStatus } from '../domain/saga';
import type { CancelRequest, DispatchConfirmation, PaymentWebhook, SagaCarry, SagaProgress } from './definitions';

export interface Outcome {
  status: TerminalStatus;
  reason?: string;
}

/**
 * The changes `release-1-7` stands for: every patch of the saga before release 1.7 (the registry,
 * versioning/patches.ts, lists them; a unit test keeps the two in step).
 */
export const changesBefore17: ReadonlySet<string> = new Set([
  'fraud-screening',
  'undo-waits-for-step',
  'payment-webhook-bound',
  'escalation-never-undoes',
  'finish-after-dispatch',
  'continue-as-new',
  'undo-all-after-reset',
  'undo-all-when-compensating',
  'search-attributes-by-status',
]);

/**
 * What one saga execution knows: the progress it answers queries with, the messages that have
 * arrived (first answer wins), how far the goods have gone, and how it ended. A run that continues
 * as new hands all of it to the next run (`carry`).
 */
export class SagaState {
  readonly progress: SagaProgress;
  /** The provider's answers, the first per authorization id, at most MESSAGE_REPEATS of them. */
  webhooks: PaymentWebhook[] = [];
  dispatch?: DispatchConfirmation;
  cancel?: CancelRequest;
  /** A shipment exists, so the warehouse may be told to dispatch. */
  allocated = false;
  /** The parcel has left: the point past which nothing is undone. */
  dispatched = false;
  outcome?: Outcome;
  /** What the saga waits for right now; a dispatch is accepted only while it waits for one. */
  waitingFor?: 'payment' | 'dispatch';
  waitingSince?: number;
  /** Messages answered again (a retried dispatch, a repeated cancellation): bounded. */
  repeats = 0;

  constructor(orderId: string, workflowId: string, resumed?: SagaCarry['resumed']) {
    if (resumed) {
      this.progress = { ...resumed.progress, steps: resumed.progress.steps.filter((s) => s.state === 'done') };
      this.progress.run = (resumed.progress.run ?? 1) + 1;
      this.webhooks = resumed.webhooks;
      this.dispatch = resumed.dispatch;
      this.cancel = resumed.cancel;
      this.allocated = resumed.allocated;
      this.dispatched = resumed.dispatched;
      this.outcome = resumed.outcome;
      this.waitingSince = resumed.waitingSince;
      this.repeats = resumed.repeats;
      return;
    }
    this.progress = {
      orderId,
      workflowId,
      status: SagaStatus.RUNNING,
      currentStep: null,
      steps: [],
      compensations: [],
      escalations: [],
      patches: [],
    };
  }

  /**
   * This run began on release 1.7 or later: it recorded the one marker `release-1-7`, which stands
   * for every change before it, instead of a marker per change. The SDK upserts the
   * TemporalChangeVersion search attribute for each marker a new saga records (four on the happy
   * path before 1.7), and each upsert is a visibility write on the server (bench:saga).
   */
  runsRelease17 = false;

  /**
   * Whether this execution takes a change, noted so operators see which changes it runs (the
   * `saga` query). `ask` calls `patched()`; a run on 1.7 takes every change made before 1.7
   * without asking, so it records no marker for them, while a run that began before 1.7 asks as
   * it always did. A change made after 1.7 is always asked: the release marker cannot know it.
   */
  took(patchId: string, ask: () => boolean): boolean {
    const taken = (this.runsRelease17 && changesBefore17.has(patchId)) || ask();
    if (taken && !this.progress.patches.includes(patchId)) this.progress.patches.push(patchId);
    return taken;
  }

  /** The result of a step a previous run of this saga already finished, if it did. */
  finished(step: string): { result: unknown } | undefined {
    const record = this.progress.steps.find((s) => s.name === step && s.state === 'done');
    return record && { result: record.result };
  }

  carry(): NonNullable<SagaCarry['resumed']> {
    return {
      progress: this.progress,
      webhooks: this.webhooks,
      ...(this.dispatch ? { dispatch: this.dispatch } : {}),
      ...(this.cancel ? { cancel: this.cancel } : {}),
      allocated: this.allocated,
      dispatched: this.dispatched,
      ...(this.outcome ? { outcome: this.outcome } : {}),
      ...(this.waitingSince !== undefined ? { waitingSince: this.waitingSince } : {}),
      repeats: this.repeats,
    };
  }
}
