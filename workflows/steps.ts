import { condition, ContinueAsNew, patched } from '@temporalio/workflow';
import { rootMessage } from '../domain/failure';
import { SagaStatus, type StepName } from '../domain/saga';
import type { Continuation } from './continuation';
import { SLA_SECONDS, type Escalation, type StepRecord } from './definitions';
import { CustomerCancellation } from './outcome';
import type { SagaParticipants } from './participants';
import type { SagaState } from './state';
import type { Visibility } from './visibility';

/**
 * How the saga runs a step and waits for the outside world. A step records itself in the progress
 * (running → done | failed), is refused once the customer has cancelled, and is skipped with its
 * recorded result when an earlier run of the saga finished it. A wait ends when its answer arrives
 * or the customer cancels; past its SLA it escalates once and keeps waiting.
 */
export function sagaSteps(state: SagaState, visibility: Visibility, participant: SagaParticipants, continuation: Continuation) {
  const { progress } = state;

  async function step<T>(name: StepName, run: () => Promise<T>): Promise<T> {
    const earlier = state.finished(name);
    if (earlier) return earlier.result as T;
    if (state.cancel) throw new CustomerCancellation(state.cancel.reason);
    const record: StepRecord = { name, state: 'running' };
    progress.steps.push(record);
    progress.currentStep = name;
    visibility.show();
    try {
      record.result = await run();
      record.state = 'done';
      return record.result as T;
    } catch (err) {
      if (err instanceof ContinueAsNew) throw err; // the next run takes the step up again
      record.state = 'failed';
      record.error = rootMessage(err);
      throw err;
    }
  }

  /** An alert that must never undo business: it retries on its own while the saga keeps waiting. */
  function alert(escalation: Escalation): void {
    escalation.alerted = false;
    participant.escalateUntilSent(escalation.waitingFor, escalation.slaSeconds).then(
      () => {
        escalation.alerted = true;
      },
      () => undefined, // only when the saga ends first: the wait is over, nobody needs the alert
    );
  }

  async function wait<T>(waitingFor: 'payment' | 'dispatch', answer: () => T | undefined): Promise<T> {
    const slaSeconds = waitingFor === 'payment' ? SLA_SECONDS.paymentResult : SLA_SECONDS.dispatch;
    state.waitingFor = waitingFor;
    state.waitingSince ??= Date.now();
    let escalation = progress.escalations.find((e) => e.waitingFor === waitingFor);
    visibility.setStatus(
      escalation ? SagaStatus.ESCALATED : waitingFor === 'payment' ? SagaStatus.AWAITING_PAYMENT : SagaStatus.AWAITING_DISPATCH,
    );
    if (escalation?.alerted === false) alert(escalation); // the run before ended while it was retrying
    const settled = () => answer() !== undefined || state.cancel !== undefined;
    const wake = () => settled() || continuation.due();
    for (;;) {
      const woken = escalation
        ? await condition(wake).then(() => true)
        : await condition(wake, Math.max(0, state.waitingSince + slaSeconds * 1000 - Date.now()));
      if (settled()) break;
      if (woken) {
        await continuation.ifDue();
        continue;
      }
      escalation = { waitingFor, slaSeconds };
      progress.escalations.push(escalation);
      // Release 1.2: a failed alert used to fail the wait and undo a live order.
      if (state.took('escalation-never-undoes', () => patched('escalation-never-undoes'))) {
        visibility.setStatus(SagaStatus.ESCALATED);
        alert(escalation);
      } else {
        await participant.escalateOrder(waitingFor, slaSeconds);
        visibility.setStatus(SagaStatus.ESCALATED);
      }
    }
    state.waitingFor = undefined;
    state.waitingSince = undefined;
    if (state.cancel) throw new CustomerCancellation(state.cancel.reason);
    visibility.setStatus(SagaStatus.RUNNING);
    return answer() as T;
  }

  return { step, wait };
}
