import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import pino from 'pino';
import type { Registry } from 'prom-client';
import { createHttpApp, listen } from './http';

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
  log?: Logger;
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

/** GET /healthz, /readyz and /metrics on an app, so a process serving more (the HTTP API) shows the same face. */
export function registerHealthRoutes(
  app: FastifyInstance,
  { registry, live = () => true, ready = () => true }: Pick<HealthOptions, 'registry' | 'live' | 'ready'>,
): void {
  const probe = (p: Probe) => async (_req: unknown, reply: import('fastify').FastifyReply) => {
    const ok = await check(p);
    return reply
      .code(ok ? 200 : 503)
      .type('text/plain')
      .send(ok ? 'ok\n' : 'not ok\n');
  };
  const hide = { schema: { hide: true } };
  app.get('/healthz', hide, probe(live));
  app.get('/readyz', hide, probe(ready));
  app.get('/metrics', hide, async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
}

export async function serveHealth({
  port,
  host = '0.0.0.0',
  registry,
  live = () => true,
  ready = () => true,
  log = pino({ level: 'silent' }),
}: HealthOptions): Promise<HealthServer> {
  const app = createHttpApp({ log, bodyLimit: 1024, forceCloseConnections: true });
  registerHealthRoutes(app, { registry, live, ready });
  const server = await listen(app, { port, host });
  return { port: server.port, close: () => server.close() };
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
