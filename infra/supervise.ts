import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants, createWriteStream, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { dataDir } from './paths';

/** A server this stack either started (and so stops) or found already running (and leaves alone). */
export interface Service {
  name: string;
  /** Where clients reach it. */
  address: string;
  started: boolean;
  /** The process this stack started (fault tests pause it with SIGSTOP); none when reused. */
  pid?: number;
  stop(): Promise<void>;
}

export function reused(name: string, address: string): Service {
  return { name, address, started: false, stop: async () => undefined };
}

/** The first executable called `name` on the PATH. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

export function run(command: string, args: string[], options: SpawnOptions = {}): string {
  const res = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (res.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${res.status ?? res.signal}): ${res.stderr || res.stdout || res.error?.message}`,
    );
  }
  return String(res.stdout ?? '');
}

/**
 * Starts a long-running server with its output in `.data/logs/<name>.log`, so a failed start can
 * be diagnosed without drowning the console.
 */
export function launch(name: string, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const logs = join(dataDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const log = createWriteStream(join(logs, `${name}.log`), { flags: 'a' });
  // Its own process group: a Ctrl-C at the terminal reaches only us, and we stop the servers after
  // the roles that use them have drained, not at the same instant.
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...options });
  // Two streams into one file: neither may end it while the other still writes (a server that
  // dies at start closes them in either order, and a write after end crashes this process).
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  child.once('close', () => log.end());
  return child;
}

/** SIGTERM, then SIGKILL if the server has not exited within the grace period. */
export async function terminate(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Polls `probe` until it returns true; fails early if the server process died. */
export async function waitUntilReady(
  name: string,
  probe: () => Promise<boolean>,
  { timeoutMs = 120_000, child }: { timeoutMs?: number; child?: ChildProcess } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) {
      throw new Error(
        `${name} exited with code ${child.exitCode} before it was ready; see ${join(dataDir, 'logs', `${name}.log`)}`,
      );
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`${name} not ready after ${timeoutMs} ms; see ${join(dataDir, 'logs', `${name}.log`)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
