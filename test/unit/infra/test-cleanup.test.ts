// Invariant: the test clean-up deletes test leftovers and nothing else: the topics of this run and
// of runs whose process is gone, and every legacy `it-<hex>.` topic of the runs before runs were
// tagged; never a production topic (`trapeze.*`, its dead-letter topics), a live run's, a
// benchmark's or Kafka's own, even when `it-` appears in the name.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { legacyTestTopic, removableTopic } from '../../cleanup';

const own = 'p1';
const deadPid = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout);

test('legacy it-<8 hex>. topics go, whichever run made them', () => {
  for (const topic of ['it-f9b28893.trapeze.shipping', 'it-503d7af6.trapeze.orders.dlq', 'it-0123abcd.trapeze.payments']) {
    assert.equal(legacyTestTopic(topic), true, topic);
    assert.equal(removableTopic(topic, own), true, topic);
  }
});

test('production, benchmark and Kafka topics stay, including look-alikes of the legacy prefix', () => {
  for (const topic of [
    'trapeze.orders',
    'trapeze.payments',
    'trapeze.inventory',
    'trapeze.shipping',
    'trapeze.reconciliation',
    'trapeze.orders.dlq',
    'trapeze.orders.it-f9b28893',
    'trapeze.it-f9b28893.orders',
    'bench.relay.abc',
    '__consumer_offsets',
    'it-f9b2889.trapeze.orders', // seven digits
    'it-f9b28893', // no topic after the prefix
    'it-F9B28893.trapeze.orders', // never generated in upper case
    'it-f9b28893x.trapeze.orders',
    'audit-f9b28893.trapeze.orders',
    ' it-f9b28893.trapeze.orders',
  ])
    assert.equal(removableTopic(topic, own), false, topic);
});

test("tagged test topics: this run's and a dead run's go, a live run's stays", () => {
  assert.equal(removableTopic(`trapeze-test.${own}.trapeze.orders`, own), true);
  assert.equal(removableTopic(`trapeze-test.p${deadPid}.trapeze.orders`, own), true);
  assert.equal(removableTopic(`trapeze-test.p${process.pid}.trapeze.orders`, own), false);
  assert.equal(removableTopic('trapeze-test', own), false);
});
