// Invariant: the canary verdict promotes only a build whose business outcomes are no worse than
// the current build's, holds while the evidence is thin, and rolls back on failures, stuck sagas,
// a compensation surge or a much slower saga.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { percentile, verdict, type BuildOutcomes } from '../../../versioning/canary';

const outcomes = (buildId: string, o: Partial<BuildOutcomes> = {}): BuildOutcomes => ({
  buildId,
  completed: 90,
  compensated: 10,
  failed: 0,
  running: 5,
  stuck: 0,
  durationsMs: Array.from({ length: 100 }, (_, i) => 1000 + i * 10),
  ...o,
});

test('a canary as good as the current build is promoted', () => {
  const v = verdict(outcomes('1.0'), outcomes('1.1', { completed: 45, compensated: 5 }));
  assert.equal(v.decision, 'promote');
  assert.equal(v.canary.compensationRate, 0.1);
});

test('too few closed sagas on the canary holds', () => {
  const v = verdict(outcomes('1.0'), outcomes('1.1', { completed: 5, compensated: 1 }));
  assert.equal(v.decision, 'hold');
  assert.match(v.reasons.join(), /only 6 closed sagas/);
});

test('a failed saga on the canary rolls back even on a small sample', () => {
  const v = verdict(outcomes('1.0'), outcomes('1.1', { completed: 5, compensated: 0, failed: 1 }));
  assert.equal(v.decision, 'roll back');
  assert.match(v.reasons.join(), /failure rate 16.7% vs 0.0%/);
});

test('stuck sagas on the canary roll back', () => {
  const v = verdict(outcomes('1.0'), outcomes('1.1', { stuck: 3 }));
  assert.equal(v.decision, 'roll back');
  assert.match(v.reasons.join(), /3 stuck/);
});

test('a moderate compensation increase holds, a surge rolls back', () => {
  assert.equal(verdict(outcomes('1.0'), outcomes('1.1', { completed: 82, compensated: 18 })).decision, 'hold');
  const surge = verdict(outcomes('1.0'), outcomes('1.1', { completed: 70, compensated: 30 }));
  assert.equal(surge.decision, 'roll back');
  assert.match(surge.reasons.join(), /compensation rate 30.0% vs 10.0%/);
});

test('a slower saga holds, a much slower one rolls back', () => {
  const slower = outcomes('1.1', { durationsMs: outcomes('x').durationsMs.map((d) => d * 1.5) });
  assert.equal(verdict(outcomes('1.0'), slower).decision, 'hold');
  const crawling = outcomes('1.1', { durationsMs: outcomes('x').durationsMs.map((d) => d * 3) });
  assert.equal(verdict(outcomes('1.0'), crawling).decision, 'roll back');
});

test('thresholds can be tightened', () => {
  assert.equal(
    verdict(outcomes('1.0'), outcomes('1.1', { completed: 88, compensated: 12 }), { compensationHold: 0.01 }).decision,
    'hold',
  );
});

test('percentiles are nearest-rank', () => {
  assert.equal(percentile([], 95), undefined);
  assert.equal(percentile([5, 1, 3], 50), 3);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95), 10);
});
