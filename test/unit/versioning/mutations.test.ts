// Invariant: every mutation of the determinism check still applies to the current saga code, so
// `npm run mutation` measures the replay net instead of silently skipping stale edits.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { mutations } from '../../../versioning/mutations';

test('there are at least ten mutations, each a real edit of the current workflow code', () => {
  assert.ok(mutations.length >= 10);
  for (const m of mutations) {
    const source = readFileSync(join(__dirname, '..', '..', '..', 'workflows', m.file), 'utf8');
    assert.notEqual(m.apply(source), source, m.name);
  }
});
