import { inspect } from 'node:util';
import { z } from 'zod';

/**
 * The payload encryption keys: the first is the current key (every new payload is encrypted with
 * it), every key decrypts. Rotating = prepend a new key and keep the old ones until no open
 * history still needs them. Key material never leaves this module in a printable form.
 */
export interface PayloadKey {
  id: string;
  /** 32 bytes of AES-256 key material. */
  secret: Buffer;
}

export interface Keyring {
  current: PayloadKey;
  byId: ReadonlyMap<string, PayloadKey>;
}

/** Prints as its id only, through JSON (pino) and util.inspect (console) alike. */
class SecretKey implements PayloadKey {
  constructor(
    readonly id: string,
    readonly secret: Buffer,
  ) {}
  toJSON() {
    return { id: this.id };
  }
  [inspect.custom]() {
    return `PayloadKey(${this.id})`;
  }
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * `PAYLOAD_KEYS`: `k1:<base64 32 bytes>,k0:<base64 32 bytes>`, current key first. Errors name the
 * entry by position and id, never by its material.
 */
export const PayloadKeys = z
  .string()
  .trim()
  .min(1)
  .transform((text, ctx): Keyring | typeof z.NEVER => {
    const keys: PayloadKey[] = [];
    const entries = text
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    for (const [i, entry] of entries.entries()) {
      const colon = entry.indexOf(':');
      const id = colon > 0 ? entry.slice(0, colon) : '';
      const material = colon > 0 ? entry.slice(colon + 1) : '';
      const where = `PAYLOAD_KEYS entry ${i + 1}${KEY_ID.test(id) ? ` (${id})` : ''}`;
      if (!KEY_ID.test(id)) {
        ctx.addIssue({ code: 'custom', message: `${where}: expected <id>:<base64 key>, id of letters, digits, . _ -` });
        continue;
      }
      const secret = BASE64.test(material) ? Buffer.from(material, 'base64') : Buffer.alloc(0);
      if (secret.length !== 32) {
        ctx.addIssue({ code: 'custom', message: `${where}: the key must be 32 bytes in base64 (openssl rand -base64 32)` });
        continue;
      }
      if (keys.some((k) => k.id === id)) {
        ctx.addIssue({ code: 'custom', message: `${where}: key id used twice` });
        continue;
      }
      keys.push(new SecretKey(id, secret));
    }
    const [current] = keys;
    if (!current) {
      if (entries.length === 0) ctx.addIssue({ code: 'custom', message: 'PAYLOAD_KEYS has no key' });
      return z.NEVER;
    }
    return { current, byId: new Map(keys.map((k) => [k.id, k])) };
  });

/** Parses `PAYLOAD_KEYS` text; throws a ZodError naming the faulty entry (never its key). */
export function parseKeyring(text: string): Keyring {
  return PayloadKeys.parse(text);
}

/** What may be logged about a keyring: ids only. */
export function describeKeyring(keyring: Keyring | undefined): string {
  if (!keyring) return 'payload encryption off (PAYLOAD_KEYS unset): workflow inputs and results are stored in clear';
  const older = [...keyring.byId.keys()].filter((id) => id !== keyring.current.id);
  return `payload encryption on: AES-256-GCM with key ${keyring.current.id}${older.length ? `, also decrypting ${older.join(', ')}` : ''}`;
}
