import { SingleBar, Presets } from 'cli-progress';
import type { Context } from './context';

export interface Progress {
  tick(): void;
  stop(): void;
}

/**
 * A bar on stderr for long work (replaying many sagas), only on a terminal and never under
 * --json: a script or a CI log gets the result lines and nothing to strip.
 */
export function progress(ctx: Context, total: number, label: string): Progress {
  if (!ctx.io.tty || ctx.json || total < 2) return { tick: () => undefined, stop: () => undefined };
  const bar = new SingleBar(
    { format: `${label} [{bar}] {value}/{total} {eta_formatted}`, stream: process.stderr, clearOnComplete: true },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return { tick: () => bar.increment(), stop: () => bar.stop() };
}
