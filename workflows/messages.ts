import { setHandler } from '@temporalio/workflow';
import { isTerminal, SagaStatus } from '../domain/saga';
import {
  cancelUpdate,
  confirmDispatchUpdate,
  paymentResultSignal,
  sagaQuery,
  type CancelRequest,
  type DispatchConfirmation,
} from './definitions';
import type { SagaState } from './state';

/**
 * The messages a saga accepts: the `saga` query, the payment provider's webhook, the customer's
 * cancellation and the warehouse's dispatch. Validators refuse what the saga cannot honour, so a
 * refused update leaves no trace in the history.
 */
export function acceptMessages(state: SagaState): void {
  const { progress } = state;
  const closedToCancel = (): string | undefined => {
    if (isTerminal(progress.status)) return `the order is already ${progress.status}`;
    if (progress.status === SagaStatus.COMPENSATING) return 'the order is already being undone';
    if (state.dispatch) return 'the parcel has been dispatched';
    return undefined;
  };

  setHandler(sagaQuery, () => progress);

  setHandler(paymentResultSignal, (w) => {
    // The provider may deliver a webhook twice; the first answer counts.
    state.webhook ??= w;
  });

  setHandler(
    cancelUpdate,
    (req) => {
      state.cancel ??= req;
      progress.cancellation ??= { reason: state.cancel.reason };
      return { accepted: true, status: progress.status };
    },
    {
      validator: (req: CancelRequest) => {
        if (!req.reason?.trim()) throw new Error('a cancellation needs a reason');
        const closed = closedToCancel();
        if (closed) throw new Error(`cannot cancel: ${closed}`);
      },
    },
  );

  setHandler(
    confirmDispatchUpdate,
    (c) => {
      state.dispatch ??= c;
      return { accepted: true };
    },
    {
      validator: (c: DispatchConfirmation) => {
        if (!c.trackingNumber?.trim()) throw new Error('a dispatch needs a tracking number');
        if (state.dispatch) {
          if (state.dispatch.trackingNumber === c.trackingNumber) return; // the warehouse retried
          throw new Error(`already dispatched with tracking number ${state.dispatch.trackingNumber}`);
        }
        if (state.cancel || progress.status === SagaStatus.COMPENSATING || isTerminal(progress.status)) {
          throw new Error(
            `cannot dispatch: the order is ${state.outcome?.status ?? (state.cancel ? 'being cancelled' : progress.status)}`,
          );
        }
        if (!state.allocated) throw new Error('cannot dispatch: no shipment allocated yet');
      },
    },
  );
}
