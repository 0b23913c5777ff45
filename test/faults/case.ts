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
  /** A world of the case's own (its own servers); the shared stack's otherwise. */
  open?: (label: string) => Promise<World>;
  run(world: World, options: { sagas: number; short: boolean }): Promise<CaseResult>;
}
