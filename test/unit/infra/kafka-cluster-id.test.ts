// Invariant: the broker's storage is formatted with a cluster id the storage tool accepts. An id
// beginning with '-' is read as an option and the broker never starts (CI failed that way once).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterId } from '../../../infra/kafka';

test('a drawn id beginning with "-" is redrawn', () => {
  // 0xf8 encodes to '-' as the first base64url character.
  const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x41)];
  const id = clusterId(() => draws.shift()!);
  assert.equal(id, Buffer.alloc(16, 0x41).toString('base64url'));
  assert.equal(draws.length, 0);
});

test('ids are 22 base64url characters and never begin with "-"', () => {
  for (let i = 0; i < 2_000; i++) {
    const id = clusterId();
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  }
});
