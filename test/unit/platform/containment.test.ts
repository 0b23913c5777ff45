// Invariant: no saga worker configuration turns nondeterminism into a failed saga: it must stay a
// failed workflow task that fixed code can resume.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertNondeterminismContained, nondeterminismEscapes } from '../../../platform/containment';

test('the default worker options keep nondeterminism a task failure', () => {
  assert.deepEqual(nondeterminismEscapes({}, ['orderFulfillment']), []);
  assert.deepEqual(nondeterminismEscapes({ workflowFailureErrorTypes: { '*': ['PaymentDeclined'] } }, ['orderFulfillment']), []);
});

test('options that fail the saga on nondeterminism are refused', () => {
  assert.throws(
    () => assertNondeterminismContained({ workflowFailureErrorTypes: { '*': ['NondeterminismError'] } }, ['orderFulfillment']),
    /fail the saga/,
  );
  assert.throws(
    () => assertNondeterminismContained({ workflowFailureErrorTypes: { orderFulfillment: ['Error'] } }, ['orderFulfillment']),
    /orderFulfillment/,
  );
  assert.deepEqual(nondeterminismEscapes({ workflowFailureErrorTypes: { other: ['Error'] } }, ['orderFulfillment']), []);
});
