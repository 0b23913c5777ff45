import { z } from 'zod';
import { PayloadKeys } from './keyring';

/**
 * The environment variables of payload encryption and its codec server, read by platform/config.ts
 * and by infra/temporal.ts (which points the dev server's UI at the codec server).
 */
const port = z.coerce.number().int().min(0).max(65_535);
const unsetWhenEmpty = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

export const PayloadEnvironment = z.object({
  /** `k1:<base64 32 bytes>,k0:<…>`, current key first. Unset: payloads are stored in clear. */
  PAYLOAD_KEYS: z.preprocess(unsetWhenEmpty, PayloadKeys.optional()),
  CODEC_SERVER_PORT: port.default(8888),
  /** Loopback by default: the codec server decrypts for whoever can reach it. */
  CODEC_SERVER_HOST: z.string().min(1).default('127.0.0.1'),
  /** Browser origins allowed to call it (the Temporal UI), comma-separated. */
  CODEC_SERVER_CORS_ORIGINS: z.string().min(1).default('http://localhost:8233,http://127.0.0.1:8233'),
  /**
   * An operator token the dev server's UI puts in the codec endpoint's path (it cannot send a
   * header); `npm start` sets it to its development operator token.
   */
  CODEC_SERVER_UI_TOKEN: z.preprocess(unsetWhenEmpty, z.string().min(1).optional()),
});

export function payloadSettings(e: z.infer<typeof PayloadEnvironment>) {
  return {
    keyring: e.PAYLOAD_KEYS,
    codecServer: {
      port: e.CODEC_SERVER_PORT,
      host: e.CODEC_SERVER_HOST,
      corsOrigins: e.CODEC_SERVER_CORS_ORIGINS.split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    },
  };
}
export type PayloadSettings = ReturnType<typeof payloadSettings>;

/** The codec server's URL for the Temporal UI and CLI, when payloads are encrypted at all. */
export function codecEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const s = payloadSettings(PayloadEnvironment.parse(env));
  if (!s.keyring) return undefined;
  const token = PayloadEnvironment.parse(env).CODEC_SERVER_UI_TOKEN;
  return `http://localhost:${s.codecServer.port}${token ? `/${encodeURIComponent(token)}` : ''}`;
}
