import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/**
 * The HTTP face every worker process shows its platform: GET /healthz (alive: restart me if not),
 * GET /readyz (doing its job now), GET /metrics (Prometheus text). Nothing else is served.
 */
export interface HealthOptions {
  /** 0 picks a free port (tests); the bound port is returned. */
  port: number;
  host?: string;
  registry: Registry;
  live?: () => boolean | Promise<boolean>;
  ready?: () => boolean | Promise<boolean>;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export type Probe = () => boolean | Promise<boolean>;

const check = async (probe: Probe) => {
  try {
    return await probe();
  } catch {
    return false;
  }
};

/**
 * Answers GET /healthz, /readyz and /metrics and returns true, or returns false for any other
 * path, so a process serving more (the HTTP API) shows the same face on its own port.
 */
export async function answerHealth(
  req: IncomingMessage,
  res: ServerResponse,
  { registry, live = () => true, ready = () => true }: Pick<HealthOptions, 'registry' | 'live' | 'ready'>,
): Promise<boolean> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') return false;
  if (req.method !== 'GET') {
    res.writeHead(405).end();
    return true;
  }
  if (path === '/metrics') {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType }).end(body);
    return true;
  }
  const ok = await check(path === '/healthz' ? live : ready);
  res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ok\n');
  return true;
}

export async function serveHealth({
  port,
  host = '0.0.0.0',
  registry,
  live = () => true,
  ready = () => true,
}: HealthOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const answer = async () => {
      if (await answerHealth(req, res, { registry, live, ready })) return;
      res.writeHead(req.method === 'GET' ? 404 : 405).end();
    };
    answer().catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Graceful shutdown: on SIGTERM or SIGINT, runs the steps in order (stop taking work, finish the
 * work in hand, close connections), then exits. A second signal, or a step hanging past the grace
 * period, exits at once with a failure code.
 */
export function shutdownOnSignals(log: Logger, steps: Array<() => Promise<void>>, graceMs = 30_000): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ graceMs }, 'shutdown took too long: exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    (async () => {
      for (const step of steps) await step();
    })().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err: String(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
