import type { Payload, PayloadCodec } from '@temporalio/common';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  EncryptionCodec,
  PayloadIntegrityError,
  PayloadKeysMissingError,
  UnknownPayloadKeyError,
} from '../platform/codec/encryption';
import { describeKeyring, type Keyring } from '../platform/codec/keyring';
import { readConfig } from '../platform/config';
import { shutdownOnSignals } from '../platform/health';
import { createLogger } from '../platform/log';

/**
 * The codec server the Temporal UI and CLI call to show decrypted payloads to operators
 * (`POST /encode`, `POST /decode`, body and answer `{ "payloads": [{ "metadata": {k: base64},
 * "data": base64 }] }`, Temporal's remote codec protocol). It answers only the browser origins it
 * is told (the UI at http://localhost:8233 by default) and listens on loopback by default: it
 * decrypts for whoever reaches it, so in production it belongs behind the UI's authentication.
 * Logs say what was asked (route, count, status), never a payload.
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

class BadRequest extends Error {}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(`body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequest('body is not JSON');
  }
}

export interface CodecServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export interface CodecServerOptions {
  keyring: Keyring | undefined;
  port?: number;
  host?: string;
  corsOrigins?: string[];
  log?: Logger;
  /** Tests may pass another codec; by default the keyring's EncryptionCodec. */
  codec?: PayloadCodec;
}

export async function startCodecServer({
  keyring,
  port = 8888,
  host = '127.0.0.1',
  corsOrigins = ['http://localhost:8233'],
  log = createLogger('codec-server'),
  codec = new EncryptionCodec(keyring),
}: CodecServerOptions): Promise<CodecServer> {
  const send = (res: ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, body === undefined ? {} : { 'Content-Type': 'application/json' });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const origin = req.headers.origin;
    if (origin && corsOrigins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Vary', 'Origin');
    }
    const route = (req.url ?? '').split('?')[0];
    if (req.method === 'OPTIONS') return send(res, 204);
    if (req.method === 'GET' && route === '/healthz') return send(res, 200, { ok: true });
    const operation = route === '/encode' ? 'encode' : route === '/decode' ? 'decode' : undefined;
    if (!operation) return send(res, 404, { error: 'POST /encode or /decode' });
    if (req.method !== 'POST') return send(res, 405, { error: 'POST only' });
    const namespace = req.headers['x-namespace'];
    void (async () => {
      try {
        const parsed = Body.safeParse(await readBody(req));
        if (!parsed.success) throw new BadRequest('expected { "payloads": [{ "metadata": {…}, "data": "<base64>" }] }');
        const payloads = parsed.data.payloads.map(fromJson);
        const out = await (operation === 'encode' ? codec.encode(payloads) : codec.decode(payloads));
        send(res, 200, { payloads: out.map(toJson) });
        log.debug({ operation, namespace, payloads: payloads.length }, 'codec request');
      } catch (err) {
        // The typed codec errors say which key is missing or that bytes were altered; no payload content.
        const known =
          err instanceof BadRequest ||
          err instanceof UnknownPayloadKeyError ||
          err instanceof PayloadIntegrityError ||
          err instanceof PayloadKeysMissingError;
        const message = known ? (err as Error).message : 'codec failed';
        log.warn({ operation, namespace, error: known ? (err as Error).name : String(err) }, 'codec request refused');
        send(res, known ? 400 : 500, { error: message });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  log.info({ port: bound, host, origins: corsOrigins }, `codec server up; ${describeKeyring(keyring)}`);
  return {
    port: bound,
    url: `http://localhost:${bound}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // The UI's browser keeps connections alive; they would hold close() open.
        server.closeAllConnections();
      }),
  };
}

if (require.main === module) {
  const config = readConfig();
  const log = createLogger('codec-server', config.logLevel);
  if (!config.payloads.keyring) log.warn('PAYLOAD_KEYS is unset: payloads are stored in clear and there is nothing to decode');
  startCodecServer({ keyring: config.payloads.keyring, ...config.payloads.codecServer, log }).then(
    (s) => shutdownOnSignals(log, [() => s.close()]),
    (err: unknown) => {
      log.fatal({ err: String(err) }, 'codec server failed to start');
      process.exit(1);
    },
  );
}
