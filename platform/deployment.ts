import type { WorkerDeploymentOptions } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * Every saga worker registers as one version of one worker deployment: the deployment name says
 * which workers take turns serving the saga task queue, the build id says which code this process
 * runs. Temporal routes each saga to a version; PINNED sagas stay on the version they started on,
 * AUTO_UPGRADE sagas move to the current version at their next task (and rely on patches).
 */
export const SAGA_DEPLOYMENT = 'trapeze-sagas';

export const SagaVersioningBehavior = z.enum(['PINNED', 'AUTO_UPGRADE']);
export type SagaVersioningBehavior = z.infer<typeof SagaVersioningBehavior>;

const root = join(__dirname, '..');

export function packageVersion(): string {
  const pkg = z.object({ version: z.string() }).parse(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')));
  return pkg.version;
}

/** The commit the process runs, or undefined outside a git checkout (e.g. a container without .git). */
export function gitCommit(): string | undefined {
  try {
    return (
      execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/**
 * `BUILD_ID` wins (a CI pipeline stamps images with it); otherwise package version + commit, e.g.
 * `1.1.0-3f2a9c1`. Without git the build is `<version>-local`: deploy real builds with BUILD_ID.
 */
export function buildId(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.BUILD_ID?.trim();
  if (explicit) return explicit;
  return `${packageVersion()}-${gitCommit() ?? 'local'}`;
}

export interface SagaDeploymentSettings {
  deploymentName?: string;
  buildId?: string;
  behavior?: SagaVersioningBehavior;
}

/** The setting `SAGA_VERSIONING_BEHAVIOR`: PINNED unless said otherwise. */
export function sagaVersioningBehavior(env: NodeJS.ProcessEnv = process.env): SagaVersioningBehavior {
  return SagaVersioningBehavior.parse(env.SAGA_VERSIONING_BEHAVIOR ?? 'PINNED');
}

/** The saga worker's `workerDeploymentOptions`. */
export function sagaDeploymentOptions(settings: SagaDeploymentSettings = {}): WorkerDeploymentOptions {
  return {
    useWorkerVersioning: true,
    version: { deploymentName: settings.deploymentName ?? SAGA_DEPLOYMENT, buildId: settings.buildId ?? buildId() },
    defaultVersioningBehavior: settings.behavior ?? sagaVersioningBehavior(),
  };
}
