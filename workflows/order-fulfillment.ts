import { CancellationScope, ContinueAsNew, deprecatePatch, log, patched, workflowInfo } from '@temporalio/workflow';
import { SagaStatus, type CompensationName } from '../domain/saga';
import { afterDispatchOptions, paymentsOptions } from './activity-options';
import { Continuation } from './continuation';
import type { OrderSagaInput, SagaCarry, SagaResult } from './definitions';
import { acceptMessages } from './messages';
import { classify, unfulfilled } from './outcome';
import { participantsFor } from './participants';
import { SagaState } from './state';
import { sagaSteps } from './steps';
import { Undos } from './undos';
import { Visibility } from './visibility';

/**
 * The order saga: submit → (screen) → authorize (→ await the payment webhook) → reserve stock →
 * allocate shipment → confirm → (capture) → await dispatch → capture → complete. Each undo is
 * registered before its step; a refusal, a cancellation or an exhausted retry policy runs them
 * in reverse. An accepted dispatch is the point of no return: after it nothing is undone and the
 * remaining steps finish whatever anyone cancels.
 */
export async function orderFulfillment(order: OrderSagaInput, carry: SagaCarry = {}): Promise<SagaResult> {
  const { workflowId } = workflowInfo();
  const state = new SagaState(order.orderId, workflowId, carry.resumed);
  // Release 1.7: one marker for the release instead of one per change (see SagaState.took).
  state.runsRelease17 = state.took('release-1-7', () => patched('release-1-7'));
  // Release 1.6: search attributes change with the status, not with every step; 1.7: nor with the
  // steps past dispatch (see Visibility).
  const byStatus = state.took('search-attributes-by-status', () => patched('search-attributes-by-status'));
  const visibility = new Visibility(
    state,
    byStatus ? (state.runsRelease17 ? 'status' : 'status-and-finishing-steps') : 'every-step',
  );
  const continuation = new Continuation(order, state, carry.historyLimit);
  const participant = participantsFor(order, workflowId, {
    undoWaitsForStep: state.took('undo-waits-for-step', () => patched('undo-waits-for-step')),
  });
  const undoOf: Record<CompensationName, () => Promise<unknown>> = {
    // Read when the undo runs, after the outcome is known, so the order records why it ended.
    cancelOrder: () => participant.cancelOrder(unfulfilled(state.outcome)),
    voidAuthorization: participant.voidAuthorization,
    releaseStock: participant.releaseStock,
    cancelShipment: participant.cancelShipment,
    refundPayment: participant.refundPayment,
  };
  const undos = new Undos({ onChange: (records) => visibility.undosChanged(records), beforeRetry: () => continuation.ifDue() });
  const { step, wait } = sagaSteps(state, visibility, participant, continuation);
  acceptMessages(state);
  visibility.tag(order);

  if (state.outcome) {
    // An earlier run of this saga was undoing it when it continued as new: finish the undos.
    undos.restore(state.progress.compensations, (name) => undoOf[name as CompensationName]);
  } else {
    try {
      // Registered before the step: if the reply is lost, the effect may exist anyway.
      undos.add('cancelOrder', undoOf.cancelOrder);
      await step('submitOrder', participant.submitOrder);

      // Screen for fraud before any money is held (release 1.1). Since 1.5 every saga screens: the
      // 1.0 sagas that skipped it have drained. deprecatePatch still writes the marker, so the 1.1-1.4
      // histories, whose marker is not deprecated, replay; a later release may drop the call once
      // they drained. A run that continues an earlier one asks for no marker: that run screened
      // already (a saga started before 1.2 never continues as new), so the step returns its
      // recorded result. A run on 1.7 writes no marker either: `release-1-7` stands for it.
      if (!carry.resumed && !state.runsRelease17) deprecatePatch('fraud-screening');
      state.took('fraud-screening', () => true);
      await step('screenOrder', participant.screenOrder);

      undos.add('voidAuthorization', undoOf.voidAuthorization);
      const authorization = await step('authorizePayment', participant.authorizePayment);
      if (authorization.status === 'pending') {
        // Release 1.2: only an answer about this saga's own authorization counts.
        const ownAnswerOnly = state.took('payment-webhook-bound', () => patched('payment-webhook-bound'));
        await step('awaitPaymentResult', async () => {
          const webhook = await wait('payment', () =>
            ownAnswerOnly ? state.webhooks.find((w) => w.authorizationId === authorization.authorizationId) : state.webhooks[0],
          );
          return participant.recordPaymentResult(authorization.authorizationId, webhook);
        });
      }

      undos.add('releaseStock', undoOf.releaseStock);
      await step('reserveStock', participant.reserveStock);

      undos.add('cancelShipment', undoOf.cancelShipment);
      await step('allocateShipment', participant.allocateShipment);
      state.allocated = true;

      await step('confirmOrder', participant.confirmOrder);

      if (order.payment.capture === 'at-confirmation') {
        undos.add('refundPayment', undoOf.refundPayment);
        await step('capturePayment', () => participant.capturePayment(paymentsOptions));
      }

      let pastNoReturn = <T>(run: () => Promise<T>) => run();
      const shipment = await step('awaitDispatch', async () => {
        const dispatch = await wait('dispatch', () => state.dispatch);
        // Release 1.2: the parcel is gone once the warehouse was told yes; an operator's
        // cancellation from here on must not abandon the capture or the completion.
        if (state.took('finish-after-dispatch', () => patched('finish-after-dispatch'))) {
          state.dispatched = true;
          pastNoReturn = (run) => CancellationScope.nonCancellable(run);
        }
        return pastNoReturn(() => participant.recordDispatch(dispatch));
      });
      state.dispatched = true;

      if (order.payment.capture === 'at-dispatch') {
        await step('capturePayment', () => pastNoReturn(() => participant.capturePayment(afterDispatchOptions)));
      }
      await step('completeOrder', () => pastNoReturn(() => participant.completeOrder(shipment.trackingNumber ?? '')));
      state.outcome = { status: 'COMPLETED' };
    } catch (err) {
      if (err instanceof ContinueAsNew) throw err;
      state.outcome = classify(err, state.progress.steps.at(-1));
      if (state.dispatched) {
        // The parcel has left: undoing stock or shipment would lie. Only an operator can settle it.
        state.outcome = { status: 'FAILED', reason: `after dispatch: ${state.outcome.reason}` };
        log.error('order saga failed after dispatch; nothing undone', { orderId: order.orderId, reason: state.outcome.reason });
      } else {
        log.info('order saga compensating', { orderId: order.orderId, ...state.outcome });
      }
    }
  }

  const { progress, outcome } = state;
  if (outcome.status !== 'COMPLETED' && !state.dispatched) {
    visibility.setStatus(SagaStatus.COMPENSATING);
    // A run made by an operator's reset does not know what the run it replaced did after the
    // reset point: that run may have authorized, reserved, allocated or captured before a
    // cancellation stopped this one earlier. Every undo is safe when its step never took effect (it
    // leaves a tombstone and does nothing else), so a run that compensates runs them all (1.4).
    // Release 1.3 did so only in a run whose runId differed from its originalExecutionRunId, but the
    // SDK's replayer runs every history under its original run id, so the gate, `trapeze replay` and
    // the corpus could not replay those runs; kept for the runs that took it.
    const { runId, originalExecutionRunId } = workflowInfo();
    if (
      state.took('undo-all-when-compensating', () => patched('undo-all-when-compensating')) ||
      (runId !== originalExecutionRunId && state.took('undo-all-after-reset', () => patched('undo-all-after-reset')))
    ) {
      const undoable: CompensationName[] = ['voidAuthorization', 'releaseStock', 'cancelShipment'];
      if (order.payment.capture === 'at-confirmation') undoable.push('refundPayment');
      for (const name of undoable) if (!undos.registered(name)) undos.add(name, undoOf[name]);
    }
    // An operator's workflow cancellation must not interrupt the undo it caused.
    await CancellationScope.nonCancellable(() => undos.compensate('sequential'));
  }

  progress.outcome = outcome;
  progress.currentStep = null;
  visibility.setStatus(outcome.status);
  return { orderId: order.orderId, status: outcome.status, ...(outcome.reason ? { reason: outcome.reason } : {}), progress };
}
