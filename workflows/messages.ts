import { setHandler } from '@temporalio/workflow';
import { isTerminal, SagaStatus } from '../domain/saga';
import {
  cancelUpdate,
  confirmDispatchUpdate,
  MESSAGE_REPEATS,
  paymentResultSignal,
  sagaQuery,
  type CancelRequest,
  type DispatchConfirmation,
} from './definitions';
import type { SagaState } from './state';

/**
 * The messages a saga accepts: the `saga` query, the payment provider's webhook, the customer's
 * cancellation and the warehouse's dispatch. Validators refuse what the saga cannot honour, so a
 * refused update leaves no trace in the history; a message answered again counts against a bound,
 * so no caller can grow the history without end.
 */
export function acceptMessages(state: SagaState): void {
  const { progress } = state;
  const closedToCancel = (): string | undefined => {
    if (isTerminal(progress.status)) return `the order is already ${progress.status}`;
    if (progress.status === SagaStatus.COMPENSATING) return 'the order is already being undone';
    if (state.dispatch) return 'the parcel has been dispatched';
    return undefined;
  };
  const repeated = (what: string): void => {
    if (state.repeats >= MESSAGE_REPEATS) throw new Error(`${what} (answered ${MESSAGE_REPEATS} times already)`);
  };

  setHandler(sagaQuery, () => progress);

  setHandler(paymentResultSignal, (w) => {
    // The provider may deliver a webhook twice: the first answer per authorization counts, and
    // only a few authorizations are remembered (the saga reads its own).
    if (state.webhooks.some((known) => known.authorizationId === w.authorizationId)) return;
    if (state.webhooks.length < MESSAGE_REPEATS) state.webhooks.push(w);
  });

  setHandler(
    cancelUpdate,
    (req) => {
      if (state.cancel) state.repeats += 1;
      state.cancel ??= req;
      progress.cancellation ??= { reason: state.cancel.reason };
      return { accepted: true, status: progress.status };
    },
    {
      validator: (req: CancelRequest) => {
        if (!req.reason?.trim()) throw new Error('a cancellation needs a reason');
        const closed = closedToCancel();
        if (closed) throw new Error(`cannot cancel: ${closed}`);
        if (state.cancel) repeated('already cancelling');
      },
    },
  );

  setHandler(
    confirmDispatchUpdate,
    (c) => {
      if (state.dispatch) state.repeats += 1;
      state.dispatch ??= c;
      return { accepted: true };
    },
    {
      validator: (c: DispatchConfirmation) => {
        if (!c.trackingNumber?.trim()) throw new Error('a dispatch needs a tracking number');
        if (state.dispatch) {
          if (state.dispatch.trackingNumber !== c.trackingNumber) {
            throw new Error(`already dispatched with tracking number ${state.dispatch.trackingNumber}`);
          }
          repeated(`already dispatched with tracking number ${c.trackingNumber}`); // the warehouse retried
          return;
        }
        if (state.cancel || progress.status === SagaStatus.COMPENSATING || isTerminal(progress.status)) {
          throw new Error(
            `cannot dispatch: the order is ${state.outcome?.status ?? (state.cancel ? 'being cancelled' : progress.status)}`,
          );
        }
        if (!state.allocated) throw new Error('cannot dispatch: no shipment allocated yet');
        // The point of no return: accepted only while the saga waits for it, so no step that could
        // still fail (and undo everything) runs after the warehouse was told yes.
        if (state.waitingFor !== 'dispatch') throw new Error('cannot dispatch: the order is not awaiting dispatch yet');
      },
    },
  );
}
