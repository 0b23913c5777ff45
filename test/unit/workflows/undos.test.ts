// Invariant: the compensation helper undoes newest first, sequentially (each waits for the one
// before) or in parallel, retries a failing undo until it succeeds while showing it as stuck,
// and never runs an undo twice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Compensations } from '../../../workflows/undos';

const noPause = async () => undefined;

test('sequential undo runs newest first, one at a time', async () => {
  const log: string[] = [];
  const saga = new Compensations({ sleep: noPause });
  for (const name of ['a', 'b', 'c']) {
    saga.add(name, async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setImmediate(r));
      log.push(`end ${name}`);
      return name.toUpperCase();
    });
  }
  await saga.compensate();
  assert.deepEqual(log, ['start c', 'end c', 'start b', 'end b', 'start a', 'end a']);
  assert.deepEqual(
    saga.records.map((r) => [r.name, r.state, r.sequence, r.result]),
    [
      ['a', 'done', 3, 'A'],
      ['b', 'done', 2, 'B'],
      ['c', 'done', 1, 'C'],
    ],
  );
});

test('parallel undo starts every undo, newest first, and waits for all', async () => {
  const log: string[] = [];
  const saga = new Compensations({ sleep: noPause });
  for (const name of ['a', 'b', 'c']) {
    saga.add(name, async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setImmediate(r));
      log.push(`end ${name}`);
    });
  }
  await saga.compensate('parallel');
  assert.deepEqual(log.slice(0, 3), ['start c', 'start b', 'start a']);
  assert.ok(saga.records.every((r) => r.state === 'done'));
});

test('a failing undo is retried with growing pauses until it succeeds, and is visible meanwhile', async () => {
  const pauses: number[] = [];
  const seen: string[] = [];
  let failures = 3;
  const saga = new Compensations({
    initialDelayMs: 100,
    maxDelayMs: 300,
    sleep: async (ms) => void pauses.push(ms),
    onChange: () => {
      const stuck = saga.stuck;
      if (stuck) seen.push(`${stuck.name}:${stuck.rounds}:${stuck.lastError ?? ''}`);
    },
  });
  saga.add('older', async () => 'ok');
  saga.add('flaky', async () => {
    if (failures-- > 0) throw new Error('provider down', { cause: new Error('ECONNRESET') });
    return 'ok';
  });
  await saga.compensate();
  assert.deepEqual(pauses, [100, 200, 300]);
  assert.ok(seen.includes('flaky:1:ECONNRESET'), 'the root cause is shown while stuck');
  assert.ok(seen.includes('flaky:3:ECONNRESET'));
  const flaky = saga.records.find((r) => r.name === 'flaky');
  assert.equal(flaky?.state, 'done');
  assert.equal(flaky?.rounds, 4);
  assert.equal(flaky?.lastError, undefined);
  assert.equal(saga.stuck, undefined);
});

test('compensating again runs only the undos not yet done', async () => {
  const runs: string[] = [];
  const saga = new Compensations({ sleep: noPause });
  saga.add('a', async () => void runs.push('a'));
  await saga.compensate();
  saga.add('b', async () => void runs.push('b'));
  await saga.compensate();
  assert.deepEqual(runs, ['a', 'b']);
});
