// Invariant: the codec server decodes what the project's codec encrypted (and encodes what it is
// given) over Temporal's remote codec protocol, answers the Temporal UI's origin with CORS and no
// other, and refuses a payload under an unknown key with a clear error and no payload content. It
// decodes only for an operator's token (a header, or the endpoint's path for the Temporal UI).
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { EncryptionCodec } from '../../../../platform/codec/encryption';
import { parseKeyring } from '../../../../platform/codec/keyring';
import { developmentTokens, tokensFrom } from '../../../../platform/auth';
import { startCodecServer, type CodecServer } from '../../../../workers/codec-server';

const keyring = parseKeyring(`k1:${randomBytes(32).toString('base64')},k0:${randomBytes(32).toString('base64')}`);
const codec = new EncryptionCodec(keyring);
const UI = 'http://localhost:8233';
let server: CodecServer;
const { tokens, entries } = developmentTokens();
const asOperator = { Authorization: `Bearer ${tokens.operator}` };

before(async () => {
  server = await startCodecServer({
    keyring,
    tokens: tokensFrom(entries),
    port: 0,
    corsOrigins: [UI],
    log: pino({ level: 'silent' }),
  });
});
after(async () => {
  await server.close();
});

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});
const fromJson = (p: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});

async function post(path: string, payloads: Payload[], headers: Record<string, string> = asOperator) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers },
    body: JSON.stringify({ payloads: payloads.map(toJson) }),
  });
  return {
    res,
    body: (await res.json()) as { payloads?: Array<{ metadata: Record<string, string>; data: string }>; error?: string },
  };
}

const order = { orderId: 'o-9', customer: { name: 'Grace Hopper', email: 'grace@example.com' } };

test('/decode returns the clear payloads (plain ones pass through)', async () => {
  const encrypted = await codec.encode([defaultPayloadConverter.toPayload(order)]);
  const plain = defaultPayloadConverter.toPayload('already plain');
  const { res, body } = await post('/decode', [...encrypted, plain], { ...asOperator, Origin: UI });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), UI);
  const decoded = (body.payloads ?? []).map(fromJson).map((p) => defaultPayloadConverter.fromPayload(p));
  assert.deepEqual(decoded, [order, 'already plain']);
});

test('/encode encrypts under the current key so that the workers can read it', async () => {
  const { res, body } = await post('/encode', [defaultPayloadConverter.toPayload(order)]);
  assert.equal(res.status, 200);
  const [encoded] = (body.payloads ?? []).map(fromJson);
  assert.equal(Buffer.from(encoded!.metadata!['encryption-key-id']!).toString(), 'k1');
  assert.ok(!Buffer.from(encoded!.data!).toString('latin1').includes('grace@example.com'));
  const [back] = await codec.decode([encoded!]);
  assert.deepEqual(defaultPayloadConverter.fromPayload(back!), order);
});

test('a payload under an unknown key is refused with the key named, nothing decoded', async () => {
  const foreign = new EncryptionCodec(parseKeyring(`k9:${randomBytes(32).toString('base64')}`));
  const { res, body } = await post('/decode', await foreign.encode([defaultPayloadConverter.toPayload(order)]));
  assert.equal(res.status, 400);
  assert.match(body.error ?? '', /"k9".*not in PAYLOAD_KEYS/);
  assert.equal(body.payloads, undefined);
});

test('CORS: the UI origin may call it, any other origin gets no grant; bad bodies are 400', async () => {
  const preflight = await fetch(`${server.url}/decode`, {
    method: 'OPTIONS',
    headers: {
      Origin: UI,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type,x-namespace',
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), UI);
  assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /X-Namespace/i);
  assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);

  const other = await post('/decode', [], { ...asOperator, Origin: 'http://evil.example' });
  assert.equal(other.res.headers.get('access-control-allow-origin'), null);

  const bad = await fetch(`${server.url}/decode`, { method: 'POST', headers: asOperator, body: '{"nope":1}' });
  assert.equal(bad.status, 400);
  assert.equal((await fetch(`${server.url}/other`, { method: 'POST', body: '{}' })).status, 404);
});

test('only an operator token decodes: none or a bad one is 401, another role 403; the UI may put it in the path', async () => {
  const encrypted = await codec.encode([defaultPayloadConverter.toPayload(order)]);
  const none = await post('/decode', encrypted, { Origin: UI });
  assert.equal(none.res.status, 401);
  assert.equal(none.body.payloads, undefined);
  // The browser can read the refusal: the UI's origin still gets its CORS grant.
  assert.equal(none.res.headers.get('access-control-allow-origin'), UI);
  assert.equal((await post('/decode', encrypted, { Authorization: 'Bearer trp_forged' })).res.status, 401);
  assert.equal((await post('/decode', encrypted, { Authorization: `Bearer ${tokens.client}` })).res.status, 403);
  assert.equal((await post('/encode', encrypted, { Authorization: `Bearer ${tokens.warehouse}` })).res.status, 403);

  const inPath = await post(`/${tokens.operator}/decode`, encrypted, { Origin: UI });
  assert.equal(inPath.res.status, 200);
  assert.deepEqual(defaultPayloadConverter.fromPayload(fromJson(inPath.body.payloads![0]!)), order);
  assert.equal((await post(`/${tokens.client}/decode`, encrypted, {})).res.status, 403);
});
