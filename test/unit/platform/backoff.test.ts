// Invariant: the relay's wait after consecutive Kafka failures grows exponentially, never exceeds
// its cap, and starts over after a success.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capped } from '../../../platform/backoff';

test('backoff doubles up to the cap and resets', () => {
  const backoff = capped({ initialMs: 100, maxMs: 1_000, random: () => 0.5 });
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map(() => backoff.next()),
    [100, 200, 400, 800, 1_000, 1_000],
  );
  assert.equal(backoff.failures, 6);
  backoff.reset();
  assert.equal(backoff.next(), 100);
});

test('jitter stays within ±20 % and under the cap', () => {
  for (const r of [0, 0.999]) {
    const backoff = capped({ initialMs: 100, maxMs: 1_000, random: () => r });
    const waits = Array.from({ length: 40 }, () => backoff.next());
    assert.ok(
      waits.every((w) => w >= 80 && w <= 1_000),
      String(waits),
    );
  }
});
