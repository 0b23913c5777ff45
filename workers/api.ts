import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { connectClient } from '../api/connect';
import { MAX_ORDER_BYTES, registerOpenApi, registerOrderRoutes, temporalErrorAnswer } from '../api/http';
import { configuredTokens, type Tokens } from '../platform/auth';
import { readConfig, type Config } from '../platform/config';
import { registerHealthRoutes, shutdownOnSignals } from '../platform/health';
import { createHttpApp, listen } from '../platform/http';
import { createLogger } from '../platform/log';
import { setupTracing, traceRequests } from '../platform/tracing';

/**
 * The HTTP API process (`npm run api`): the order routes of api/http.ts, their OpenAPI document
 * (/openapi.json) and docs page (/docs), plus /healthz (alive), /readyz (Temporal answers) and
 * /metrics on one port. SIGTERM stops taking connections, lets the requests in hand finish, then
 * closes the Temporal connection.
 */
export interface ApiServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export interface ApiServerOptions {
  client: Client;
  taskQueue?: string;
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  log?: Logger;
  /** Who may call the order routes (none: every call is 401). */
  tokens: Tokens;
  /** The payment provider's webhook secrets (none: webhooks are refused with 503). */
  webhook?: { secrets: readonly string[]; toleranceSeconds?: number };
}

export async function startApiServer({
  client,
  taskQueue,
  port,
  host = '0.0.0.0',
  log = createLogger('api'),
  tokens,
  webhook = { secrets: [] },
}: ApiServerOptions): Promise<ApiServer> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const app = createHttpApp({ log, bodyLimit: MAX_ORDER_BYTES, mapError: temporalErrorAnswer });
  traceRequests(app);
  // Ready when Temporal answers within a probe's patience: without it no route can do its job.
  const ready = () =>
    client.connection.withDeadline(Date.now() + 2_000, async () => Boolean(await client.workflowService.getSystemInfo({})));
  await registerOpenApi(app);
  registerHealthRoutes(app, { registry, ready });
  registerOrderRoutes(app, { client, log, registry, tokens, webhook, ...(taskQueue ? { taskQueue } : {}) });
  // Stops accepting on close; requests in hand finish (idle keep-alive sockets are closed at once).
  return listen(app, { port, host });
}

/** The API role with its own Temporal client (npm run api, npm start). */
export async function startApiWorker({
  config,
  log = createLogger('api', config.logLevel),
}: {
  config: Config;
  log?: Logger;
}): Promise<ApiServer & { stop(): Promise<void> }> {
  const tracing = setupTracing({ serviceName: 'trapeze-api' });
  const client = await connectClient({
    address: config.temporal.address,
    namespace: config.temporal.namespace,
    keyring: config.payloads.keyring,
  });
  const tokens = configuredTokens(config.api.tokens, (message) => log.error(message));
  const server = await startApiServer({
    client,
    taskQueue: config.saga.taskQueue,
    port: config.api.httpPort,
    log,
    tokens,
    webhook: config.api.webhook,
  });
  const perRole = tokens.count();
  if (!Object.values(perRole).some(Boolean))
    log.warn('no API tokens configured (API_TOKENS, API_TOKENS_FILE): every order call is refused');
  if (!config.api.webhook.secrets.length) log.warn('PAYMENT_WEBHOOK_SECRET is unset: payment webhooks are refused');
  log.info(
    { port: server.port, temporal: config.temporal.address, taskQueue: config.saga.taskQueue, tokens: perRole },
    'HTTP API up',
  );
  return {
    ...server,
    async stop() {
      await server.close();
      await client.connection.close();
      await tracing.forceFlush();
    },
  };
}

if (require.main === module) {
  const config = readConfig();
  const log = createLogger('api', config.logLevel);
  startApiWorker({ config, log }).then(
    (api) => shutdownOnSignals(log, [() => api.stop()]),
    (err: unknown) => {
      log.fatal({ err: String(err) }, 'HTTP API failed to start');
      process.exit(1);
    },
  );
}
