import {
  ContinueAsNew,
  isCancellation,
  proxySinks,
  workflowInfo,
  type Sinks,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import { WORKFLOW_TYPE, type SagaResult } from './definitions';

/**
 * What the saga tells the worker's metrics, through a sink: a sink call is no command and is not
 * made again when a history replays, so each saga is counted once, by the worker that ran it live,
 * and the saga's code and command sequence stay as they are. Bundled beside the saga by
 * `bundleWorkflows` (platform/deployment.ts); the worker implements the sink (workers/saga-metrics.ts).
 */
export interface SagaMetricsSinks extends Sinks {
  sagaMetrics: {
    /** The first run of a saga began (not a continued-as-new run). */
    started(): void;
    /** The saga ended with this status (COMPLETED, REJECTED, CANCELLED, FAILED). */
    ended(status: string): void;
  };
}

const { sagaMetrics } = proxySinks<SagaMetricsSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        const info = workflowInfo();
        if (info.workflowType !== WORKFLOW_TYPE) return next(input);
        if (info.continuedFromExecutionRunId === undefined) sagaMetrics.started();
        let result: SagaResult;
        try {
          result = (await next(input)) as SagaResult;
        } catch (err) {
          // A continue-as-new did not end the saga; anything else thrown ended the workflow.
          if (!(err instanceof ContinueAsNew)) sagaMetrics.ended(isCancellation(err) ? 'CANCELLED' : 'FAILED');
          throw err;
        }
        sagaMetrics.ended(result.status);
        return result;
      },
    },
  ],
});
