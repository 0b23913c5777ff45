import { runTrapeze } from '../../../cli/trapeze';
import type { Overrides } from '../../../cli/context';

export interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs `trapeze <argv>` in-process against the test stack, capturing what it prints. */
export async function trapeze(argv: string[], overrides: Overrides = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTrapeze(argv, {
    ...overrides,
    env: { ...process.env, ...overrides.env },
    io: { out: (l) => out.push(l), err: (l) => err.push(l), tty: false },
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The stdout of a --json run, parsed. */
export const json = <T>(run: Run): T => JSON.parse(run.out) as T;
