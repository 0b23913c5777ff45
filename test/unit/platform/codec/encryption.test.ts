// Invariant: a payload leaves the process only as AES-256-GCM ciphertext under the current key, comes
// back byte-for-byte, any altered byte is refused, old keys still decrypt after a rotation, and a
// payload under a key we do not hold fails with a typed error naming the key (never its material).
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { test } from 'node:test';
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  KEY_ID_METADATA,
  PayloadIntegrityError,
  PayloadKeysMissingError,
  UnknownPayloadKeyError,
} from '../../../../platform/codec/encryption';
import { describeKeyring, parseKeyring } from '../../../../platform/codec/keyring';

const material = () => randomBytes(32).toString('base64');
const k0 = material();
const k1 = material();
const order = { orderId: 'o-1', customer: { id: 'c-1', name: 'Grace Hopper', email: 'grace@example.com' } };
const plain = (value: unknown) => defaultPayloadConverter.toPayload(value);
const value = (p: Payload | undefined) => defaultPayloadConverter.fromPayload(p!);
const meta = (p: Payload | undefined, key: string) => Buffer.from(p?.metadata?.[key] ?? []).toString();

test('round trip: encrypted under the current key, decoded to the same payload', async () => {
  const codec = new EncryptionCodec(parseKeyring(`k1:${k1},k0:${k0}`));
  const original = [plain(order), plain(null), plain('x'.repeat(100_000))];
  const encoded = await codec.encode(original);
  assert.equal(encoded.length, 3);
  for (const p of encoded) {
    assert.equal(meta(p, 'encoding'), ENCRYPTED_ENCODING);
    assert.equal(meta(p, KEY_ID_METADATA), 'k1');
  }
  assert.ok(!Buffer.from(encoded[0]!.data!).toString('latin1').includes('grace@example.com'), 'ciphertext holds no clear email');
  const decoded = await codec.decode(encoded);
  assert.deepEqual(value(decoded[0]), order);
  assert.equal(value(decoded[1]), null);
  assert.deepEqual(
    decoded.map((p) => meta(p, 'encoding')),
    original.map((p) => meta(p, 'encoding')),
  );
});

test('the same payload encrypts differently each time (fresh IV)', async () => {
  const codec = new EncryptionCodec(parseKeyring(`k1:${k1}`));
  const [a] = await codec.encode([plain(order)]);
  const [b] = await codec.encode([plain(order)]);
  assert.notDeepEqual(Buffer.from(a!.data!), Buffer.from(b!.data!));
});

test('tampering is detected: a flipped byte, a truncated payload, a swapped key id', async () => {
  const codec = new EncryptionCodec(parseKeyring(`k1:${k1},k0:${k0}`));
  const [encoded] = await codec.encode([plain(order)]);
  const flipped = Buffer.from(encoded!.data!);
  flipped[20] = flipped[20]! ^ 0x01;
  await assert.rejects(codec.decode([{ ...encoded, data: flipped }]), PayloadIntegrityError);
  await assert.rejects(codec.decode([{ ...encoded, data: Buffer.from(encoded!.data!).subarray(0, 20) }]), PayloadIntegrityError);
  // The key id is authenticated: relabelling the ciphertext as k0's fails as well.
  await assert.rejects(
    codec.decode([{ ...encoded, metadata: { ...encoded!.metadata, [KEY_ID_METADATA]: Buffer.from('k0') } }]),
    PayloadIntegrityError,
  );
});

test('rotation: the new key encodes, the old key still decodes what it wrote', async () => {
  const before = new EncryptionCodec(parseKeyring(`k0:${k0}`));
  const after = new EncryptionCodec(parseKeyring(`k1:${k1},k0:${k0}`));
  const written = await before.encode([plain(order)]);
  assert.equal(meta(written[0], KEY_ID_METADATA), 'k0');
  assert.deepEqual(value((await after.decode(written))[0]), order);
  const rewritten = await after.encode([plain(order)]);
  assert.equal(meta(rewritten[0], KEY_ID_METADATA), 'k1');
  // Histories from before the rotation and after it decode in one batch.
  assert.deepEqual((await after.decode([...written, ...rewritten])).map(value), [order, order]);
});

test('a payload under an unknown key id fails with UnknownPayloadKeyError naming the key', async () => {
  const writer = new EncryptionCodec(parseKeyring(`k2:${material()}`));
  const reader = new EncryptionCodec(parseKeyring(`k1:${k1},k0:${k0}`));
  const encoded = await writer.encode([plain(order)]);
  await assert.rejects(reader.decode(encoded), (err: unknown) => {
    assert.ok(err instanceof UnknownPayloadKeyError);
    assert.equal(err.keyId, 'k2');
    assert.match(err.message, /"k2".*not in PAYLOAD_KEYS.*k1, k0/);
    return true;
  });
  await assert.rejects(new EncryptionCodec(undefined).decode(encoded), PayloadKeysMissingError);
});

test('plain payloads pass through: histories from before encryption stay readable; no keys, no encryption', async () => {
  const codec = new EncryptionCodec(parseKeyring(`k1:${k1}`));
  const p = plain(order);
  assert.deepEqual(await codec.decode([p]), [p]);
  assert.deepEqual(await new EncryptionCodec(undefined).encode([p]), [p]);
});

test('PAYLOAD_KEYS: errors and printouts name key ids, never key material', () => {
  const keyring = parseKeyring(` k1:${k1} , k0:${k0} `);
  assert.equal(keyring.current.id, 'k1');
  assert.deepEqual([...keyring.byId.keys()], ['k1', 'k0']);
  for (const shown of [JSON.stringify(keyring.current), inspect(keyring, { depth: 5 }), describeKeyring(keyring)]) {
    assert.ok(!shown.includes(k1) && !shown.includes(Buffer.from(k1, 'base64').toString('hex')), shown);
  }
  assert.match(describeKeyring(undefined), /off/);
  const short = randomBytes(16).toString('base64');
  for (const bad of [`k1:${short}`, `k1:${k1},k1:${k0}`, `k1${k1}`, `k 1:${k1}`, `k1:not base64!`]) {
    assert.throws(
      () => parseKeyring(bad),
      (err: Error) => {
        assert.ok(!err.message.includes(short) && !err.message.includes(k1) && !err.message.includes(k0), err.message);
        return true;
      },
    );
  }
});
