import { condition } from '@temporalio/workflow';
import { rootMessage } from '../domain/failure';
import { SagaStatus, type StepName } from '../domain/saga';
import { SLA_SECONDS, type StepRecord } from './definitions';
import { CustomerCancellation } from './outcome';
import type { SagaParticipants } from './participants';
import type { SagaState } from './state';
import type { Visibility } from './visibility';

/**
 * How the saga runs a step and waits for the outside world. A step records itself in the progress
 * (running → done | failed) and is refused once the customer has cancelled. A wait ends when its
 * answer arrives or the customer cancels; past its SLA it escalates once and keeps waiting.
 */
export function sagaSteps(state: SagaState, visibility: Visibility, escalateOrder: SagaParticipants['escalateOrder']) {
  const { progress } = state;

  async function step<T>(name: StepName, run: () => Promise<T>): Promise<T> {
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
      record.state = 'failed';
      record.error = rootMessage(err);
      throw err;
    }
  }

  async function wait<T>(waitingFor: 'payment' | 'dispatch', answer: () => T | undefined): Promise<T> {
    const slaSeconds = waitingFor === 'payment' ? SLA_SECONDS.paymentResult : SLA_SECONDS.dispatch;
    visibility.setStatus(waitingFor === 'payment' ? SagaStatus.AWAITING_PAYMENT : SagaStatus.AWAITING_DISPATCH);
    const settled = () => answer() !== undefined || state.cancel !== undefined;
    if (!(await condition(settled, slaSeconds * 1000))) {
      progress.escalations.push({ waitingFor, slaSeconds });
      await escalateOrder(waitingFor, slaSeconds);
      visibility.setStatus(SagaStatus.ESCALATED);
      await condition(settled);
    }
    if (state.cancel) throw new CustomerCancellation(state.cancel.reason);
    visibility.setStatus(SagaStatus.RUNNING);
    return answer() as T;
  }

  return { step, wait };
}
