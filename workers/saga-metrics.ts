import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import { Counter, Gauge, type Registry } from 'prom-client';
import { COMPENSATIONS, type CompensationName } from '../domain/saga';
import { workflowSpanSinks } from '../platform/tracing';
import type { SagaMetricsSinks } from '../workflows/interceptors';

/**
 * The saga worker's business metrics, all observed without I/O from workflow code: sagas started
 * and ended come from the saga's sink (workflows/interceptors.ts, not called on replay), undos,
 * stuck undos and escalations from the activity interceptor around each participant call, workflow
 * task failures from the SDK's own log line (platform/log.ts `sdkLogger`). Counts are per worker
 * process: Prometheus sums them over the workers, a restart starts them from zero as usual.
 */
export interface SagaMetrics {
  /** The `sagaMetrics` sink, registered on the worker. */
  sinks: InjectedSinks<SagaMetricsSinks>;
  /** The activity interceptor, registered on the worker. */
  activity: ActivityInterceptorsFactory;
  /** A failed workflow task (nondeterminism or another error in workflow code), from the SDK's log. */
  workflowTaskFailed(reason: 'nondeterminism' | 'other'): void;
}

const UNDOS = new Set<string>(COMPENSATIONS);

export function sagaMetrics(registry: Registry, now: () => number = Date.now): SagaMetrics {
  const registers = [registry];
  const started = new Counter({ name: 'trapeze_sagas_started_total', help: 'Sagas started (first runs)', registers });
  const ended = new Counter({
    name: 'trapeze_sagas_ended_total',
    help: 'Sagas ended, by status: COMPLETED, REJECTED, CANCELLED, FAILED',
    labelNames: ['status'],
    registers,
  });
  const compensated = new Counter({
    name: 'trapeze_saga_compensations_total',
    help: 'Undos that succeeded, by undo and the step it undoes',
    labelNames: ['undo', 'step'],
    registers,
  });
  const undoFailures = new Counter({
    name: 'trapeze_saga_undo_failures_total',
    help: 'Failed attempts of an undo (each is retried until it succeeds)',
    labelNames: ['undo'],
    registers,
  });
  const escalations = new Counter({
    name: 'trapeze_saga_escalations_total',
    help: 'Alerts sent because a wait outlived its SLA, by what the saga waits for',
    labelNames: ['waiting_for'],
    registers,
  });
  const taskFailures = new Counter({
    name: 'trapeze_workflow_task_failures_total',
    help: 'Failed workflow tasks (the saga stalls and retries them), by reason: nondeterminism or other',
    labelNames: ['reason'],
    registers,
  });
  // An undo is stuck from its first failed attempt until one succeeds: workflow id + undo → since.
  const stuck = new Map<string, { undo: string; since: number }>();
  new Gauge({
    name: 'trapeze_saga_undos_stuck',
    help: 'Undos whose last attempt on this worker failed, by undo',
    labelNames: ['undo'],
    registers,
    collect() {
      this.reset();
      for (const undo of COMPENSATIONS) this.set({ undo }, 0);
      for (const s of stuck.values()) this.inc({ undo: s.undo });
    },
  });
  new Gauge({
    name: 'trapeze_saga_undo_stuck_oldest_age_seconds',
    help: 'How long the oldest stuck undo has been failing (0 when none)',
    registers,
    collect() {
      const oldest = Math.min(...[...stuck.values()].map((s) => s.since));
      this.set(Number.isFinite(oldest) ? (now() - oldest) / 1000 : 0);
    },
  });
  for (const status of ['COMPLETED', 'REJECTED', 'CANCELLED', 'FAILED']) ended.inc({ status }, 0);
  for (const reason of ['nondeterminism', 'other']) taskFailures.inc({ reason }, 0);

  const activity: ActivityInterceptorsFactory = (ctx) => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        const type = ctx.info.activityType;
        const workflowId = ctx.info.workflowExecution?.workflowId ?? '';
        const key = `${workflowId}/${type}`;
        try {
          const result = await next(input);
          if (UNDOS.has(type)) {
            stuck.delete(key);
            compensated.inc({ undo: type, step: stepUndoneBy(type as CompensationName) });
          } else if (type === 'escalateOrder') {
            escalations.inc({ waiting_for: waitingFor(input.args[0]) });
          }
          return result;
        } catch (err) {
          if (UNDOS.has(type)) {
            undoFailures.inc({ undo: type });
            if (!stuck.has(key)) stuck.set(key, { undo: type, since: now() });
          }
          throw err;
        }
      },
    };
    return { inbound };
  };

  return {
    sinks: {
      sagaMetrics: {
        started: { fn: () => started.inc() },
        ended: { fn: (_info, status) => ended.inc({ status }) },
      },
    },
    activity,
    workflowTaskFailed: (reason) => taskFailures.inc({ reason }),
  };
}

const UNDONE: Record<CompensationName, string> = {
  cancelOrder: 'submitOrder',
  voidAuthorization: 'authorizePayment',
  releaseStock: 'reserveStock',
  cancelShipment: 'allocateShipment',
  refundPayment: 'capturePayment',
};
const stepUndoneBy = (undo: CompensationName) => UNDONE[undo];

const waitingFor = (request: unknown): string => {
  const w = (request as { waitingFor?: unknown } | undefined)?.waitingFor;
  return w === 'payment' || w === 'dispatch' ? w : 'unknown';
};

/**
 * Every sink a saga bundle (platform/deployment.ts `bundleWorkflows`) calls: the workflow spans'
 * exporter and the metrics. A replayer or test worker without metrics gets no-ops: a replay drops
 * the calls anyway, but a missing sink is logged as an error on every workflow task.
 */
export function sagaSinks(
  metrics?: Pick<SagaMetrics, 'sinks'>,
): InjectedSinks<SagaMetricsSinks> & ReturnType<typeof workflowSpanSinks> {
  const none = { fn: () => undefined };
  return { ...workflowSpanSinks(), ...(metrics?.sinks ?? { sagaMetrics: { started: none, ended: none } }) };
}
