import type { Connection } from '@temporalio/client';
import { optionalTsToDate } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';

/**
 * Operator verbs on a worker deployment, straight on the workflow service: the TypeScript SDK has
 * no high-level deployment client yet. Ramping sends a share of NEW sagas to a build; promoting
 * makes it current; a version drains once no open pinned saga needs it, and only then may its
 * workers be stopped.
 */
const VersionStatus = temporal.api.enums.v1.WorkerDeploymentVersionStatus;
const DrainageStatus = temporal.api.enums.v1.VersionDrainageStatus;

export interface VersionView {
  buildId: string;
  status: 'current' | 'ramping' | 'draining' | 'drained' | 'inactive' | 'created' | 'unknown';
  drainage: 'draining' | 'drained' | undefined;
  createdAt: Date | undefined;
  lastCurrentAt: Date | undefined;
  drainageCheckedAt: Date | undefined;
  /** Open sagas whose history says they run on this build (pinned or not yet moved). */
  openSagas: number;
}

export interface DeploymentView {
  deploymentName: string;
  current: string | undefined;
  ramping: { buildId: string; percentage: number } | undefined;
  versions: VersionView[];
}

const identity = `trapeze-rollout@${process.env.USER ?? 'operator'}`;

function statusName(s: number | null | undefined): VersionView['status'] {
  switch (s) {
    case VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT:
      return 'current';
    case VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_RAMPING:
      return 'ramping';
    case VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING:
      return 'draining';
    case VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED:
      return 'drained';
    case VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_INACTIVE:
      return 'inactive';
    case VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_CREATED:
      return 'created';
    default:
      return 'unknown';
  }
}

function drainageName(s: number | null | undefined): VersionView['drainage'] {
  if (s === DrainageStatus.VERSION_DRAINAGE_STATUS_DRAINING) return 'draining';
  if (s === DrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED) return 'drained';
  return undefined;
}

/** The visibility query for executions that ran their last task on one build of a deployment. */
export function onBuildQuery(deploymentName: string, buildId: string): string {
  return `TemporalWorkerDeploymentVersion = '${deploymentName}:${buildId}'`;
}

export class Rollout {
  constructor(
    // Only its workflow service: a Client's connection does as well as a Connection.
    private readonly connection: Pick<Connection, 'workflowService'>,
    readonly deploymentName: string,
    private readonly namespace = 'default',
  ) {}

  private get service() {
    return this.connection.workflowService;
  }

  private async describe() {
    const res = await this.service.describeWorkerDeployment({ namespace: this.namespace, deploymentName: this.deploymentName });
    return { info: res.workerDeploymentInfo, conflictToken: res.conflictToken };
  }

  async status(): Promise<DeploymentView> {
    const { info } = await this.describe();
    const routing = info?.routingConfig;
    const versions: VersionView[] = [];
    for (const summary of info?.versionSummaries ?? []) {
      const buildId = summary.deploymentVersion?.buildId ?? '';
      // The summary's drainage can be stale; the version's own description carries the last check.
      const described = await this.service.describeWorkerDeploymentVersion({
        namespace: this.namespace,
        deploymentVersion: { deploymentName: this.deploymentName, buildId },
      });
      const drainageInfo = described.workerDeploymentVersionInfo?.drainageInfo ?? summary.drainageInfo;
      const open = await this.service.countWorkflowExecutions({
        namespace: this.namespace,
        query: `${onBuildQuery(this.deploymentName, buildId)} AND ExecutionStatus = 'Running'`,
      });
      versions.push({
        buildId,
        status: statusName(summary.status),
        drainage: drainageName(drainageInfo?.status ?? summary.drainageStatus),
        createdAt: optionalTsToDate(summary.createTime),
        lastCurrentAt: optionalTsToDate(summary.lastCurrentTime),
        drainageCheckedAt: optionalTsToDate(drainageInfo?.lastCheckedTime),
        openSagas: Number(open.count ?? 0),
      });
    }
    versions.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
    const rampingBuild = routing?.rampingDeploymentVersion?.buildId;
    return {
      deploymentName: this.deploymentName,
      current: routing?.currentDeploymentVersion?.buildId ?? undefined,
      ramping: rampingBuild ? { buildId: rampingBuild, percentage: routing?.rampingVersionPercentage ?? 0 } : undefined,
      versions,
    };
  }

  /** Sends `percentage` % of new sagas to `buildId`; the rest keep going to the current build. */
  async ramp(buildId: string, percentage: number): Promise<void> {
    if (!(percentage >= 0 && percentage <= 100)) throw new Error(`ramp percentage must be 0..100, got ${percentage}`);
    const { conflictToken } = await this.describe();
    await this.service.setWorkerDeploymentRampingVersion({
      namespace: this.namespace,
      deploymentName: this.deploymentName,
      buildId,
      percentage,
      conflictToken,
      identity,
    });
  }

  /** Makes `buildId` the current version: every new saga (and every AUTO_UPGRADE saga) goes there. */
  async promote(buildId: string): Promise<void> {
    const { conflictToken } = await this.describe();
    await this.service.setWorkerDeploymentCurrentVersion({
      namespace: this.namespace,
      deploymentName: this.deploymentName,
      buildId,
      conflictToken,
      identity,
    });
  }

  /**
   * Stops a ramp if one runs; otherwise makes the previously current build current again. Sagas
   * pinned to the abandoned build stay on it: keep its workers up until it reports drained.
   */
  async rollback(): Promise<{ action: 'unramped' | 'reverted'; buildId: string }> {
    const view = await this.status();
    if (view.ramping) {
      const { conflictToken } = await this.describe();
      await this.service.setWorkerDeploymentRampingVersion({
        namespace: this.namespace,
        deploymentName: this.deploymentName,
        buildId: '',
        percentage: 0,
        conflictToken,
        identity,
      });
      return { action: 'unramped', buildId: view.ramping.buildId };
    }
    const previous = view.versions
      .filter((v) => v.buildId !== view.current && v.lastCurrentAt)
      .sort((a, b) => (b.lastCurrentAt?.getTime() ?? 0) - (a.lastCurrentAt?.getTime() ?? 0))[0];
    if (!previous) throw new Error(`deployment ${this.deploymentName} has no previously current build to roll back to`);
    await this.promote(previous.buildId);
    return { action: 'reverted', buildId: previous.buildId };
  }
}

export function formatDeployment(view: DeploymentView): string {
  const lines = [
    `deployment ${view.deploymentName}`,
    `  current: ${view.current ?? '(none: unversioned workers serve new sagas)'}`,
    `  ramping: ${view.ramping ? `${view.ramping.buildId} at ${view.ramping.percentage}%` : '(none)'}`,
    '  build id                          status     drainage   open sagas  created',
  ];
  for (const v of view.versions) {
    lines.push(
      `  ${v.buildId.padEnd(34)}${v.status.padEnd(11)}${(v.drainage ?? '-').padEnd(11)}${String(v.openSagas).padStart(10)}  ${v.createdAt?.toISOString() ?? '-'}`,
    );
  }
  const drainable = view.versions.filter((v) => v.drainage === 'drained' || (v.status === 'inactive' && v.openSagas === 0));
  if (drainable.length > 0) lines.push(`  safe to stop workers of: ${drainable.map((v) => v.buildId).join(', ')}`);
  return lines.join('\n');
}
