import type { Verdict } from './judge';
import type { World } from './world';

/** One fault case: runs a burst in its world, injects its fault, recovers and is judged. */
export interface CaseResult {
  sagas: number;
  injected: number;
  verdict: Verdict;
  /** From the last fault injected to the last saga ended. */
  recoverMs: number;
}

export interface FaultCase {
  name: string;
  run(world: World, options: { sagas: number; short: boolean }): Promise<CaseResult>;
}
