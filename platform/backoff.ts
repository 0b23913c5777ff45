/**
 * Capped exponential backoff with jitter: the first failure waits about `initialMs`, each next one
 * twice as long, never more than `maxMs`. Jitter (±20 %) keeps several relays from retrying an
 * outage in lockstep.
 */
export interface Backoff {
  /** The wait before the next attempt; each call counts one more consecutive failure. */
  next(): number;
  reset(): void;
  readonly failures: number;
}

export function capped({ initialMs = 100, maxMs = 10_000, random = Math.random } = {}): Backoff {
  let failures = 0;
  return {
    next() {
      const base = Math.min(maxMs, initialMs * 2 ** Math.min(failures, 30));
      failures += 1;
      return Math.round(Math.min(maxMs, base * (0.8 + 0.4 * random())));
    },
    reset() {
      failures = 0;
    },
    get failures() {
      return failures;
    },
  };
}
