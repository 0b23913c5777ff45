import type { Configuration } from 'webpack';
import { bundleWorkflowCode, type Logger, type WorkerDeploymentOptions, type WorkflowBundle } from '@temporalio/worker';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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

/** Webpack's chatter stays out of the worker's log; warnings and errors do not. */
const bundlerLog: Logger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};

/**
 * The OpenTelemetry SDK's workflow interceptors (platform/tracing.ts): always in the bundle, tracing
 * on or off, so that the build id (the bundle's hash) never depends on configuration. They add
 * spans and headers, never commands, so every history replays as it did without them. Whoever
 * runs or replays such a bundle registers their `exporter` sink (`workflowSpanSinks()`).
 */
export const WORKFLOW_TRACING_MODULE = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/**
 * The interceptor modules bundled with workflow code: tracing's, and the workflows folder's own
 * `interceptors.ts` when it has one (the saga's metrics sink; older releases' trees have none).
 */
export function workflowInterceptorModules(workflowsPath: string): string[] {
  const own = join(dirname(workflowsPath), 'interceptors.ts');
  return [WORKFLOW_TRACING_MODULE, ...(existsSync(own) ? [own] : [])];
}

/**
 * Bundles workflow code as the worker runs it. Module ids are relative to the repository root
 * (webpack's default is the process's working directory), so the same code bundles to the same
 * text wherever the checkout lives and whichever directory the process starts in.
 */
export async function bundleWorkflows(workflowsPath: string): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: workflowInterceptorModules(workflowsPath),
    logger: bundlerLog,
    webpackConfigHook: (config) => ({ ...config, context: root, ...bundleCache(workflowsPath) }),
  });
}

/**
 * Webpack's persistent cache (it tracks every file the bundle reads, so a change rebuilds): a
 * bundle that took 14 s takes 3 s in the next process. Scratch copies (mutants, old releases)
 * are bundled once and not cached.
 */
function bundleCache(workflowsPath: string): Pick<Configuration, 'cache'> {
  if (workflowsPath.startsWith(tmpdir())) return {};
  const cacheDirectory = join(process.env.TRAPEZE_CACHE_DIR ?? join(homedir(), '.cache', 'trapeze'), 'webpack');
  const name = createHash('sha256')
    .update(`${workflowsPath}\u0000${workflowInterceptorModules(workflowsPath).join()}`)
    .digest('hex')
    .slice(0, 16);
  return { cache: { type: 'filesystem', cacheDirectory, name, maxAge: 7 * 24 * 3600 * 1000 } };
}

/**
 * The code's fingerprint: the first 12 hex digits of the SHA-256 of the bundle the worker runs,
 * without its inline source map (which holds absolute paths). Every module the saga imports,
 * the SDK's workflow runtime included, is in the bundle, so any change to what replays changes it.
 */
export function workflowCodeHash(bundle: { code: string }): string {
  const code = bundle.code.replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '');
  return createHash('sha256').update(code).digest('hex').slice(0, 12);
}

/**
 * The build id names the workflow code: `<package version>-<code hash>`, e.g. `1.1.0-3f2a9c1d04be`,
 * or `explicit` (BUILD_ID, as a CI pipeline stamps it). Two different codes never share a
 * derived id, with or without .git, dirty tree or not.
 */
export function buildId(bundle: { code: string }, explicit?: string): string {
  return explicit?.trim() || `${packageVersion()}-${workflowCodeHash(bundle)}`;
}

/**
 * The build id a versioned worker may register under: an explicit BUILD_ID must end with the
 * hash of the code this worker carries, or PINNED sagas could be routed to code they did not
 * start on. Throws (the worker refuses to start) when it does not.
 */
export function verifiedBuildId(bundle: { code: string }, explicit?: string): string {
  const id = buildId(bundle, explicit);
  const hash = workflowCodeHash(bundle);
  if (id !== hash && !id.endsWith(`-${hash}`)) {
    throw new Error(
      `BUILD_ID ${id} does not identify this worker's workflow code (hash ${hash}): ` +
        `build ids must end with the code hash, e.g. ${buildId(bundle)} (unset BUILD_ID to use it; \`npm run build-id\` prints it)`,
    );
  }
  return id;
}

export interface SagaDeploymentSettings {
  deploymentName?: string;
  /** From verifiedBuildId(bundle, BUILD_ID). */
  buildId: string;
  behavior?: SagaVersioningBehavior;
}

/** The setting `SAGA_VERSIONING_BEHAVIOR`: PINNED unless said otherwise. */
export function sagaVersioningBehavior(env: NodeJS.ProcessEnv = process.env): SagaVersioningBehavior {
  return SagaVersioningBehavior.parse(env.SAGA_VERSIONING_BEHAVIOR ?? 'PINNED');
}

/** The saga worker's `workerDeploymentOptions`. */
export function sagaDeploymentOptions(settings: SagaDeploymentSettings): WorkerDeploymentOptions {
  return {
    useWorkerVersioning: true,
    version: { deploymentName: settings.deploymentName ?? SAGA_DEPLOYMENT, buildId: settings.buildId },
    defaultVersioningBehavior: settings.behavior ?? sagaVersioningBehavior(),
  };
}
