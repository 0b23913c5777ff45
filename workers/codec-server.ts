import fastifyCors from '@fastify/cors';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { bearer, configuredTokens, requireRole, type Tokens } from '../platform/auth';
import {
  EncryptionCodec,
  PayloadIntegrityError,
  PayloadKeysMissingError,
  UnknownPayloadKeyError,
} from '../platform/codec/encryption';
import { describeKeyring, type Keyring } from '../platform/codec/keyring';
import { readConfig } from '../platform/config';
import { shutdownOnSignals } from '../platform/health';
import { createHttpApp, HttpError, listen, typed } from '../platform/http';
import { createLogger } from '../platform/log';

/**
 * The codec server the Temporal UI and CLI call to show decrypted payloads to operators
 * (`POST /encode`, `POST /decode`, body and answer `{ "payloads": [{ "metadata": {k: base64},
 * "data": base64 }] }`, Temporal's remote codec protocol). It decrypts customer data, so it takes
 * an operator's token: `Authorization: Bearer <token>` (the CLI's `--codec-auth`), or in the
 * endpoint's path, `http://localhost:8888/<token>`, for the Temporal UI of the dev server, which
 * cannot send a header. It answers CORS only for the browser origins it is told (the UI at
 * http://localhost:8233 by default) and listens on loopback by default. Logs say what was asked
 * (route, count, status), never a payload or a token.
 */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

const JsonPayload = z.object({
  metadata: z.record(z.string(), z.string()).nullish(),
  data: z.string().nullish(),
});
const Body = z.object({ payloads: z.array(JsonPayload) });
type JsonPayload = z.infer<typeof JsonPayload>;

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

export interface CodecServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export interface CodecServerOptions {
  keyring: Keyring | undefined;
  /** Whose tokens open it: only the operator role decodes. */
  tokens: Tokens;
  port?: number;
  host?: string;
  corsOrigins?: string[];
  log?: Logger;
  /** Tests may pass another codec; by default the keyring's EncryptionCodec. */
  codec?: PayloadCodec;
}

export async function startCodecServer({
  keyring,
  tokens,
  port = 8888,
  host = '127.0.0.1',
  corsOrigins = ['http://localhost:8233'],
  log = createLogger('codec-server'),
  codec = new EncryptionCodec(keyring),
}: CodecServerOptions): Promise<CodecServer> {
  // The codec protocol is JSON whatever the content type a caller names; the UI's browser keeps
  // connections alive, which would hold close() open.
  const app = createHttpApp({ log, bodyLimit: MAX_BODY_BYTES, jsonContentTypes: '*', forceCloseConnections: true });
  await app.register(fastifyCors, {
    origin: corsOrigins,
    credentials: true,
    methods: ['POST', 'OPTIONS'],
    allowedHeaders: ['Content-Type', 'X-Namespace', 'Authorization'],
  });
  app.get('/healthz', () => ({ ok: true }));

  const api = typed(app);
  const tokenOf = (req: FastifyRequest) => (req.params as { token?: string }).token ?? bearer(req);
  for (const operation of ['encode', 'decode'] as const) {
    for (const url of [`/${operation}`, `/:token/${operation}`]) {
      api.post(url, { onRequest: requireRole(tokens, ['operator'], tokenOf), schema: { body: Body } }, async (req) => {
        const namespace = req.headers['x-namespace'];
        const payloads = req.body.payloads.map(fromJson);
        try {
          const out = await (operation === 'encode' ? codec.encode(payloads) : codec.decode(payloads));
          log.debug({ operation, namespace, payloads: payloads.length }, 'codec request');
          return { payloads: out.map(toJson) };
        } catch (err) {
          // The typed codec errors say which key is missing or that bytes were altered; no payload content.
          const known =
            err instanceof UnknownPayloadKeyError ||
            err instanceof PayloadIntegrityError ||
            err instanceof PayloadKeysMissingError;
          log.warn({ operation, namespace, error: known ? err.name : String(err) }, 'codec request refused');
          if (known) throw new HttpError(400, { error: err.message });
          throw new HttpError(500, { error: 'codec failed' });
        }
      });
    }
  }
  const server = await listen(app, { port, host });
  log.info(
    { port: server.port, host, origins: corsOrigins, operators: tokens.count().operator },
    `codec server up; ${describeKeyring(keyring)}`,
  );
  return { port: server.port, url: `http://localhost:${server.port}`, close: () => server.close() };
}

if (require.main === module) {
  const config = readConfig();
  const log = createLogger('codec-server', config.logLevel);
  if (!config.payloads.keyring) log.warn('PAYLOAD_KEYS is unset: payloads are stored in clear and there is nothing to decode');
  const tokens = configuredTokens(config.api.tokens, (message) => log.error(message));
  if (!tokens.count().operator)
    log.warn('no operator token configured (API_TOKENS, API_TOKENS_FILE): every codec call is refused');
  startCodecServer({ keyring: config.payloads.keyring, tokens, ...config.payloads.codecServer, log }).then(
    (s) => shutdownOnSignals(log, [() => s.close()]),
    (err: unknown) => {
      log.fatal({ err: String(err) }, 'codec server failed to start');
      process.exit(1);
    },
  );
}
