import type { Client } from '@temporalio/client';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { connectClient } from '../api/connect';
import { createOrderApi } from '../api/http';
import { readConfig, type Config } from '../platform/config';
import { answerHealth, shutdownOnSignals } from '../platform/health';
import { createLogger } from '../platform/log';

/**
 * The HTTP API process (`npm run api`): the order routes of api/http.ts plus /healthz (alive),
 * /readyz (Temporal answers) and /metrics on one port. SIGTERM stops taking connections, lets
 * the requests in hand finish, then closes the Temporal connection.
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
}

export async function startApiServer({
  client,
  taskQueue,
  port,
  host = '0.0.0.0',
  log = createLogger('api'),
}: ApiServerOptions): Promise<ApiServer> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const api = createOrderApi({ client, log, registry, ...(taskQueue ? { taskQueue } : {}) });
  // Ready when Temporal answers within a probe's patience: without it no route can do its job.
  const ready = () =>
    client.connection.withDeadline(Date.now() + 2_000, async () => Boolean(await client.workflowService.getSystemInfo({})));
  const server = createServer((req, res) => {
    (async () => {
      if (await answerHealth(req, res, { registry, ready })) return;
      await api(req, res);
    })().catch((err: unknown) => {
      log.error({ err: String(err) }, 'request handling failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Stops accepting; requests in hand finish (idle keep-alive sockets are closed now).
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/** The API role with its own Temporal client (npm run api, npm start). */
export async function startApiWorker({
  config,
  log = createLogger('api', config.logLevel),
}: {
  config: Config;
  log?: Logger;
}): Promise<ApiServer & { stop(): Promise<void> }> {
  const client = await connectClient({
    address: config.temporal.address,
    namespace: config.temporal.namespace,
    keyring: config.payloads.keyring,
  });
  const server = await startApiServer({ client, taskQueue: config.saga.taskQueue, port: config.api.httpPort, log });
  log.info({ port: server.port, temporal: config.temporal.address, taskQueue: config.saga.taskQueue }, 'HTTP API up');
  return {
    ...server,
    async stop() {
      await server.close();
      await client.connection.close();
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
