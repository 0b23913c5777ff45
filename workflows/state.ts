import { SagaStatus, type TerminalStatus } from '../domain/saga';
import type { CancelRequest, DispatchConfirmation, PaymentWebhook, SagaProgress } from './definitions';

export interface Outcome {
  status: TerminalStatus;
  reason?: string;
}

/**
 * What one saga execution knows: the progress it answers queries with, the messages that have
 * arrived (first answer wins), how far the goods have gone, and how it ended.
 */
export class SagaState {
  readonly progress: SagaProgress;
  webhook?: PaymentWebhook;
  dispatch?: DispatchConfirmation;
  cancel?: CancelRequest;
  /** A shipment exists, so the warehouse may be told to dispatch. */
  allocated = false;
  /** The parcel has left: the point past which nothing is undone. */
  dispatched = false;
  outcome?: Outcome;

  constructor(orderId: string, workflowId: string) {
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
}
