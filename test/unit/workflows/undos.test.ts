// Invariant: the compensation helper undoes newest first, sequentially (each waits for the one
// before) or in parallel, retries a failing undo until it succeeds while showing it as stuck,
// and never runs an undo twice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Undos } from '../../../workflows/undos';

const noPause = async () => undefined;

test('sequential undo runs newest first, one at a time', async () => {
  const log: string[] = [];
  const undos = new Undos({ sleep: noPause });
  for (const name of ['a', 'b', 'c']) {
    undos.add(name, async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setImmediate(r));
      log.push(`end ${name}`);
      return name.toUpperCase();
    });
  }
  await undos.compensate();
  assert.deepEqual(log, ['start c', 'end c', 'start b', 'end b', 'start a', 'end a']);
  assert.deepEqual(
    undos.records.map((r) => [r.name, r.state, r.sequence, r.result]),
    [
      ['a', 'done', 3, 'A'],
      ['b', 'done', 2, 'B'],
      ['c', 'done', 1, 'C'],
    ],
  );
});

test('parallel undo starts every undo, newest first, and waits for all', async () => {
  const log: string[] = [];
  const undos = new Undos({ sleep: noPause });
  for (const name of ['a', 'b', 'c']) {
    undos.add(name, async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setImmediate(r));
      log.push(`end ${name}`);
    });
  }
  await undos.compensate('parallel');
  assert.deepEqual(log.slice(0, 3), ['start c', 'start b', 'start a']);
  assert.ok(undos.records.every((r) => r.state === 'done'));
});

test('a failing undo is retried with growing pauses until it succeeds, and is visible meanwhile', async () => {
  const pauses: number[] = [];
  const seen: string[] = [];
  let failures = 3;
  const undos = new Undos({
    initialDelayMs: 100,
    maxDelayMs: 300,
    sleep: async (ms) => void pauses.push(ms),
    onChange: () => {
      const stuck = undos.stuck;
      if (stuck) seen.push(`${stuck.name}:${stuck.rounds}:${stuck.lastError ?? ''}`);
    },
  });
  undos.add('older', async () => 'ok');
  undos.add('flaky', async () => {
    if (failures-- > 0) throw new Error('provider down', { cause: new Error('ECONNRESET') });
    return 'ok';
  });
  await undos.compensate();
  assert.deepEqual(pauses, [100, 200, 300]);
  assert.ok(seen.includes('flaky:1:ECONNRESET'), 'the root cause is shown while stuck');
  assert.ok(seen.includes('flaky:3:ECONNRESET'));
  const flaky = undos.records.find((r) => r.name === 'flaky');
  assert.equal(flaky?.state, 'done');
  assert.equal(flaky?.rounds, 4);
  assert.equal(flaky?.lastError, undefined);
  assert.equal(undos.stuck, undefined);
});

test('compensating again runs only the undos not yet done', async () => {
  const runs: string[] = [];
  const undos = new Undos({ sleep: noPause });
  undos.add('a', async () => void runs.push('a'));
  await undos.compensate();
  undos.add('b', async () => void runs.push('b'));
  await undos.compensate();
  assert.deepEqual(runs, ['a', 'b']);
});
