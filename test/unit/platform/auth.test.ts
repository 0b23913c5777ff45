// Invariant: tokens are configured only as their SHA-256 (several per role, inline or in a file),
// a presented token is known by its hash alone, a malformed configuration fails loudly at start,
// and a token file is re-read when it changes, so tokens rotate without a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { actsFor, configuredTokens, developmentTokens, hashToken, tokenListOf, TokenFile } from '../../../platform/auth';
import { readConfig } from '../../../platform/config';

test('API_TOKENS takes role:sha256 pairs, several per role; the configuration holds no token', () => {
  const dev = developmentTokens();
  const second = developmentTokens();
  const config = readConfig({ API_TOKENS: `${tokenListOf(dev.entries)}, operator:${hashToken(second.tokens.operator)}` });
  assert.ok(!JSON.stringify(config).includes(dev.tokens.client), 'no plain token in the configuration');
  const tokens = configuredTokens(config.api.tokens);
  assert.equal(tokens.callerOf(dev.tokens.client)?.role, 'client');
  assert.equal(tokens.callerOf(dev.tokens.warehouse)?.role, 'warehouse');
  assert.equal(tokens.callerOf(second.tokens.operator)?.role, 'operator');
  assert.equal(tokens.callerOf(second.tokens.client), undefined);
  assert.deepEqual(tokens.count(), { client: 1, warehouse: 1, operator: 2 });

  assert.throws(() => readConfig({ API_TOKENS: 'admin:' + hashToken('x') }), /API_TOKENS/);
  assert.throws(() => readConfig({ API_TOKENS: 'client:not-a-hash' }), /API_TOKENS/);
  assert.throws(() => readConfig({ PAYMENT_WEBHOOK_SECRET: 'short' }), /PAYMENT_WEBHOOK_SECRET/);
});

test("a client token's customers: inline after a third colon joined by +, `*` for all, none for none", () => {
  const [shop, desk, bare] = ['shop', 'desk', 'bare'].map((t) => hashToken(t));
  const config = readConfig({ API_TOKENS: `client:${shop}:c-1+c-2, client:${desk}:*, client:${bare}` });
  const tokens = configuredTokens(config.api.tokens);
  const shopCaller = tokens.callerOf('shop')!;
  assert.deepEqual(shopCaller.customers, ['c-1', 'c-2']);
  assert.ok(actsFor(shopCaller, 'c-2') && !actsFor(shopCaller, 'c-3'));
  assert.ok(actsFor(tokens.callerOf('desk')!, 'anyone'));
  assert.ok(!actsFor(tokens.callerOf('bare')!, 'c-1'), 'a client bound to no customer acts for none');
  assert.ok(actsFor({ role: 'operator', name: 'op' }, 'c-1'), 'other roles are not bound');
  assert.throws(() => readConfig({ API_TOKENS: `client:${shop}:` }), /API_TOKENS/);
  assert.throws(() => readConfig({ API_TOKENS: `client:${shop}:c-1:extra` }), /API_TOKENS/);
  // The file form names them as an array, ids with any character.
  const file = TokenFile.parse({ tokens: [{ role: 'client', sha256: shop, customers: ['acme:eu,1'] }] });
  assert.deepEqual(file.tokens[0]?.customers, ['acme:eu,1']);
  // The development client token acts for every customer, and survives the round trip through API_TOKENS.
  const dev = developmentTokens();
  assert.ok(
    actsFor(configuredTokens(readConfig({ API_TOKENS: tokenListOf(dev.entries) }).api.tokens).callerOf(dev.tokens.client)!, 'x'),
  );
});

test('a token file is re-read when it changes: a rotated token works at once, the retired one no longer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trapeze-tokens-'));
  try {
    const file = join(dir, 'tokens.json');
    const [old, next] = [developmentTokens().tokens.warehouse, developmentTokens().tokens.warehouse];
    writeFileSync(file, JSON.stringify({ tokens: [{ role: 'warehouse', sha256: hashToken(old), name: 'berlin' }] }));
    const errors: string[] = [];
    const tokens = configuredTokens({ file }, (m) => errors.push(m));
    assert.deepEqual(tokens.callerOf(old), { role: 'warehouse', name: 'berlin' });

    writeFileSync(
      file,
      JSON.stringify([
        { role: 'warehouse', sha256: hashToken(next) },
        { role: 'client', sha256: hashToken(old) },
      ]),
    );
    assert.equal(tokens.callerOf(next)?.role, 'warehouse');
    assert.equal(tokens.callerOf(old)?.role, 'client', 'the old token now has the role the file gives it');

    // A broken edit keeps the last good tokens and says so.
    writeFileSync(file, '{ "tokens": [ ');
    assert.equal(tokens.callerOf(next)?.role, 'warehouse');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /keeping the previous tokens/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
