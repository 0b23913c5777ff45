import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring, PayloadKey } from './keyring';

/**
 * A Temporal PayloadCodec that encrypts every payload (workflow and activity inputs, results,
 * signals, updates, queries, memos, summaries) with AES-256-GCM before it reaches the server, so
 * the customer's name, email and address are never stored in clear in Temporal history.
 *
 * Wire format, one encrypted payload per payload:
 *   metadata: encoding = binary/encrypted, encryption-key-id = <key id>, encryption-cipher = AES-256-GCM
 *   data:     12-byte IV || ciphertext of the protobuf-serialised original Payload || 16-byte tag
 * The key id is authenticated too (GCM additional data): moving a payload under another key's id
 * fails like any tampering. Runs in client and worker main threads only (it needs node:crypto);
 * workflow code sees decoded payloads.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES-256-GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/** A payload encrypted with a key this process does not hold: add the key to PAYLOAD_KEYS. */
export class UnknownPayloadKeyError extends Error {
  override readonly name = 'UnknownPayloadKeyError';
  constructor(
    readonly keyId: string,
    known: readonly string[],
  ) {
    super(`payload encrypted with key "${keyId}", which is not in PAYLOAD_KEYS (known: ${known.join(', ') || 'none'})`);
  }
}

/** The payload does not authenticate: altered, truncated, or not encrypted by any of our keys. */
export class PayloadIntegrityError extends Error {
  override readonly name = 'PayloadIntegrityError';
  constructor(readonly keyId: string) {
    super(`encrypted payload (key "${keyId}") failed authentication: it was altered or corrupted`);
  }
}

/** An encrypted payload arrived where no key is configured (PAYLOAD_KEYS unset). */
export class PayloadKeysMissingError extends Error {
  override readonly name = 'PayloadKeysMissingError';
  constructor(readonly keyId: string) {
    super(`payload encrypted with key "${keyId}" but payload encryption is off here (set PAYLOAD_KEYS)`);
  }
}

export const isEncrypted = (p: Payload): boolean => text(p.metadata?.encoding) === ENCRYPTED_ENCODING;

function encrypt(payload: Payload, key: PayloadKey): Payload {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.secret, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(utf8(key.id));
  const plain = temporal.api.common.v1.Payload.encode(payload).finish();
  const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return {
    metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(key.id), [CIPHER_METADATA]: utf8(CIPHER) },
    data,
  };
}

function decrypt(payload: Payload, keyring: Keyring | undefined): Payload {
  const keyId = text(payload.metadata?.[KEY_ID_METADATA]) ?? '';
  if (!keyring) throw new PayloadKeysMissingError(keyId);
  const key = keyring.byId.get(keyId);
  if (!key) throw new UnknownPayloadKeyError(keyId, [...keyring.byId.keys()]);
  const data = Buffer.from(payload.data ?? []);
  if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadIntegrityError(keyId);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.secret, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(utf8(key.id));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    return temporal.api.common.v1.Payload.decode(plain);
  } catch {
    // GCM says only "unable to authenticate"; the cause (wrong bytes) is all there is to say.
    throw new PayloadIntegrityError(keyId);
  }
}

/**
 * Encodes with the keyring's current key; decodes with whichever key the payload names.
 * Payloads that are not encrypted pass through on decode: histories written before encryption
 * was turned on (and the replay corpus) stay readable. Without a keyring, encode is the identity.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keyring: Keyring | undefined) {}

  // async: a refusal must reject the promise, not throw before there is one.
  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keyring?.current;
    return key ? payloads.map((p) => encrypt(p, key)) : payloads;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => (isEncrypted(p) ? decrypt(p, this.keyring) : p));
  }
}
