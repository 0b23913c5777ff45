import { CancellationScope, log, patched, workflowInfo } from '@temporalio/workflow';
import { SagaStatus } from '../domain/saga';
import { afterDispatchOptions, paymentsOptions } from './activity-options';
import type { OrderSagaInput, SagaResult } from './definitions';
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
 * in reverse. Past dispatch nothing is undone.
 */
export async function orderFulfillment(order: OrderSagaInput): Promise<SagaResult> {
  const { workflowId } = workflowInfo();
  const participant = participantsFor(order, workflowId);
  const state = new SagaState(order.orderId, workflowId);
  const visibility = new Visibility(state);
  const undos = new Undos({ onChange: (records) => visibility.undosChanged(records) });
  const { step, wait } = sagaSteps(state, visibility, participant.escalateOrder);
  acceptMessages(state);
  visibility.tag(order);

  try {
    // Registered before the step: if the reply is lost, the effect may exist anyway.
    undos.add('cancelOrder', () => participant.cancelOrder(unfulfilled(state.outcome)));
    await step('submitOrder', participant.submitOrder);

    // Release 1.1: screen for fraud before any money is held. A saga that passed this point on 1.0
    // replays without the marker and skips the step; every saga reaching it on 1.1 is screened.
    if (patched('fraud-screening')) {
      state.progress.patches.push('fraud-screening');
      await step('screenOrder', participant.screenOrder);
    }

    undos.add('voidAuthorization', participant.voidAuthorization);
    const authorization = await step('authorizePayment', participant.authorizePayment);
    if (authorization.status === 'pending') {
      await step('awaitPaymentResult', async () => {
        const webhook = await wait('payment', () => state.webhook);
        return participant.recordPaymentResult(authorization.authorizationId, webhook);
      });
    }

    undos.add('releaseStock', participant.releaseStock);
    await step('reserveStock', participant.reserveStock);

    undos.add('cancelShipment', participant.cancelShipment);
    await step('allocateShipment', participant.allocateShipment);
    state.allocated = true;

    await step('confirmOrder', participant.confirmOrder);

    if (order.payment.capture === 'at-confirmation') {
      undos.add('refundPayment', participant.refundPayment);
      await step('capturePayment', () => participant.capturePayment(paymentsOptions));
    }

    const shipment = await step('awaitDispatch', async () => {
      const dispatch = await wait('dispatch', () => state.dispatch);
      return participant.recordDispatch(dispatch);
    });
    state.dispatched = true;

    if (order.payment.capture === 'at-dispatch') {
      await step('capturePayment', () => participant.capturePayment(afterDispatchOptions));
    }
    await step('completeOrder', () => participant.completeOrder(shipment.trackingNumber ?? ''));
    state.outcome = { status: 'COMPLETED' };
  } catch (err) {
    state.outcome = classify(err, state.progress.steps.at(-1));
    if (state.dispatched) {
      // The parcel has left: undoing stock or shipment would lie. Only an operator can settle it.
      state.outcome = { status: 'FAILED', reason: `after dispatch: ${state.outcome.reason}` };
      log.error('order saga failed after dispatch; nothing undone', { orderId: order.orderId, reason: state.outcome.reason });
    } else {
      log.info('order saga compensating', { orderId: order.orderId, ...state.outcome });
      visibility.setStatus(SagaStatus.COMPENSATING);
      // An operator's workflow cancellation must not interrupt the undo it caused.
      await CancellationScope.nonCancellable(() => undos.compensate('sequential'));
    }
  }

  const { progress, outcome } = state;
  progress.outcome = outcome;
  progress.currentStep = null;
  visibility.setStatus(outcome.status);
  return { orderId: order.orderId, status: outcome.status, ...(outcome.reason ? { reason: outcome.reason } : {}), progress };
}
