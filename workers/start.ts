import { randomBytes } from 'node:crypto';
import { configuredTokens, developmentTokens, tokenListOf, type Role } from '../platform/auth';
import { connectClient } from '../api/connect';
import { describeStack, startStack, stopOnSignal } from '../infra/stack';
import { openDatabase } from '../platform/database';
import { startCodecServer } from './codec-server';
import { readConfig } from '../platform/config';
import { createLogger } from '../platform/log';
import { reporter } from '../platform/report';
import { settledTrails } from '../consumers/trail';
import { runDemo } from './demo';
import { startNotificationsWorker } from './notifications';
import { startOrderViewWorker } from './order-view';
import { startRelayWorker } from './relay';
import { startSagaWorker } from './saga-worker';
import { installSdkLogging } from './sdk-logging';
import { startApiWorker } from './api';
import { startReconciliationWorker } from './reconciliation';

/**
 * `npm start`: the embedded stack, then every Trapeze role in this one process, then the demo
 * orders; stays up until Ctrl-C or SIGTERM, which stop the roles first and the stack last.
 */
/**
 * Without configured tokens, one token per role and a webhook secret are made for this run (and
 * printed): the API and the codec server never run open, even on a laptop.
 */
function developmentCredentials(): { tokens?: Record<Role, string>; webhookSecret?: string } {
  const out: { tokens?: Record<Role, string>; webhookSecret?: string } = {};
  if (!process.env.API_TOKENS?.trim() && !process.env.API_TOKENS_FILE?.trim()) {
    const dev = developmentTokens();
    process.env.API_TOKENS = tokenListOf(dev.entries);
    // The dev server's UI reaches the codec server with the operator's token in the endpoint's path.
    process.env.CODEC_SERVER_UI_TOKEN ??= dev.tokens.operator;
    out.tokens = dev.tokens;
  }
  if (!process.env.PAYMENT_WEBHOOK_SECRET?.trim()) {
    out.webhookSecret = `whsec_${randomBytes(24).toString('base64url')}`;
    process.env.PAYMENT_WEBHOOK_SECRET = out.webhookSecret;
  }
  return out;
}

async function main(): Promise<void> {
  const began = Date.now();
  const credentials = developmentCredentials();
  // Pretty on a terminal, JSON lines otherwise (LOG_FORMAT overrides): the report follows the logs.
  const say = reporter(createLogger('start'));
  const stack = await startStack();
  Object.assign(process.env, stack.env);
  say(`stack ready in ${((Date.now() - began) / 1000).toFixed(1)} s:\n${describeStack(stack)}`);
  const config = readConfig();
  // One Database for every in-process role: SQLite wants a single writer connection.
  const db = openDatabase(config.databaseUrl);
  const roles: Array<{ stop(): Promise<void> }> = [];
  const stop = async () => {
    for (const role of roles.reverse()) await role.stop();
    await db.close();
    await stack.stop();
  };
  stopOnSignal(stop, say);

  // --- saga worker and demo orders ---
  // Expected refusals (declines, shortages) are SDK warnings; the demo prints its own outcomes.
  installSdkLogging(createLogger('saga-worker', 'error'), 'error');
  roles.push(await startSagaWorker({ config, db }));
  // The events' way out and their readers run before the demo, so its orders flow end to end.
  roles.push(await startRelayWorker({ config, db }));
  roles.push(await startOrderViewWorker({ config, db }));
  roles.push(await startNotificationsWorker({ config, db }));
  // Reconciliation on its Schedule (RECONCILIATION_INTERVAL_SECONDS); its findings queue on its own port.
  const reconciliation = await startReconciliationWorker({ config, db });
  roles.push(reconciliation);
  say(
    `reconciliation every ${config.reconciliation.intervalSeconds} s; findings at http://localhost:${reconciliation.port}/reconciliation/findings (operator token) and npx trapeze reconcile findings`,
  );
  // The HTTP API for teams not on TypeScript (POST /orders, GET /orders/:id, …).
  const api = await startApiWorker({ config });
  roles.push(api);
  say(`HTTP API on ${api.url}/orders (docs ${api.url}/docs, OpenAPI ${api.url}/openapi.json)`);
  if (credentials.tokens) {
    say('development tokens for this run (set API_TOKENS or API_TOKENS_FILE to use your own):');
    for (const [role, token] of Object.entries(credentials.tokens)) say(`  ${role.padEnd(9)} ${token}`);
    say(`  e.g. curl -H 'Authorization: Bearer ${credentials.tokens.client}' ${api.url}/orders/<orderId>`);
  } else {
    const perRole = configuredTokens(config.api.tokens).count();
    say(
      `API tokens from the configuration: ${Object.entries(perRole)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ')}`,
    );
  }
  if (credentials.webhookSecret) say(`  payment webhook secret (PAYMENT_WEBHOOK_SECRET): ${credentials.webhookSecret}`);
  // Encrypted payloads: the UI (started with --ui-codec-endpoint) decodes them through this server.
  if (config.payloads.keyring) {
    const codec = await startCodecServer({
      keyring: config.payloads.keyring,
      tokens: configuredTokens(config.api.tokens),
      ...config.payloads.codecServer,
    });
    roles.push({ stop: () => codec.close() });
    const reusedUi = stack.temporal.started
      ? ''
      : ` (Temporal was already running: set ${codec.url}/<operator token> in the UI under Codec Server)`;
    say(`payloads encrypted; the Temporal UI decodes them through ${codec.url} with an operator token${reusedUi}`);
  }
  const client = await connectClient({
    address: config.temporal.address,
    namespace: config.temporal.namespace,
    keyring: config.payloads.keyring,
  });
  roles.push({ stop: () => client.connection.close() });
  const outcomes = await runDemo({
    client,
    db,
    taskQueue: config.saga.taskQueue,
    namespace: config.temporal.namespace,
    uiBaseUrl: stack.temporal.uiUrl,
    stayUp: true,
    print: say,
  });
  if (!outcomes.every((o) => o.ok)) say('some demo orders ended unexpectedly (see above)');
  say(
    `\nwhere each order's events went:\n${await settledTrails(
      { outbox: db, consumers: db },
      outcomes.map((o) => o.orderId),
    )}`,
  );

  say('Ctrl-C stops it.');
}

main().catch((err: unknown) => {
  // The reason in a line (a server that would not start names its log file), not a stack trace.
  console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
