// Invariant: the mutation check is generated from the saga's code: every kind of command site the
// saga has (activities, undos, timers, waits, patch guards, cancellation scopes) yields its
// operators, each a real edit of the current code, with a stable id per site.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateMutations } from '../../../versioning/mutations';
import { repoRoot, scratchRepo } from '../../../versioning/releases';
import { PREMATURE_PATCH_REMOVAL } from '../../../versioning/variants';

const mutations = generateMutations();

test('every kind of command site in the saga yields its operators', () => {
  const ids = mutations.map((m) => m.id);
  for (const operator of [
    'delete activity ',
    'duplicate activity ',
    'swap activity with the next step ',
    'delete undo ',
    'move undo after its step ',
    'remove timer ',
    'add a timer before ',
    'make wait untimed ',
    'give wait a timeout ',
    'drop guard ',
    'invert guard ',
    'remove cancellation scope ',
    'move wait later ',
    'change option ',
    'change summary of ',
    'change log line ',
    'add a query after the message handlers',
  ])
    assert.ok(
      ids.some((id) => id.startsWith(operator)),
      `"${operator}" is generated (got ${ids.length} mutations)`,
    );
  assert.ok(ids.includes('delete activity submitOrder'));
  assert.ok(ids.includes(PREMATURE_PATCH_REMOVAL), 'the premature 1.8 variant has a stable id');
});

test('each mutation is a real edit of the current code, and ids are unique', () => {
  assert.equal(new Set(mutations.map((m) => m.id)).size, mutations.length);
  for (const m of mutations) {
    const source = readFileSync(join(repoRoot, m.file), 'utf8');
    assert.notEqual(m.apply(source), source, m.id);
  }
});

test('a new step in the saga becomes new mutations without touching the generator', () => {
  const scratch = scratchRepo();
  try {
    const file = join(scratch.root, 'workflows', 'order-fulfillment.ts');
    const source = readFileSync(file, 'utf8');
    // Just before the saga records its completion, wherever that line sits.
    const anchor = source.split('\n').find((l) => l.trim() === "state.outcome = { status: 'COMPLETED' };");
    assert.ok(anchor !== undefined);
    const indent = anchor.slice(0, anchor.indexOf('state'));
    writeFileSync(file, source.replace(anchor, `${indent}await step('confirmOrder', participant.confirmOrder);\n${anchor}`));
    const ids = generateMutations(scratch.root).map((m) => m.id);
    for (const op of ['delete activity', 'duplicate activity']) assert.ok(ids.includes(`${op} confirmOrder #2`), op);
    assert.equal(ids.length, mutations.length + 2);
  } finally {
    scratch.remove();
  }
});
