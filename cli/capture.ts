import type { Command } from 'commander';
import { capture } from '../versioning/capture';
import { act, usageError, type Context } from './context';
import { progress, type Progress } from './progress';

/**
 * `trapeze capture --release <major.minor> [--only <scenario,…>]`: runs every saga scenario with this
 * checkout's workflow code and writes each history to versioning/histories/<release>/ (the replay corpus).
 */
export function captureCommand(program: Command, ctx: Context): void {
  program
    .command('capture')
    .description("record the replay corpus of a release: every saga scenario's history, from real runs")
    .requiredOption('--release <major.minor>', 'the release the histories belong to, e.g. 1.2')
    .option('--only <scenarios>', 'comma-separated scenario names')
    .action(
      act(ctx, async (o: { release: string; only?: string }) => {
        if (!/^\d+\.\d+$/.test(o.release)) throw usageError('--release is <major>.<minor>, e.g. 1.2');
        let bar: Progress | undefined;
        const written: string[] = [];
        await ctx.client(); // one line and exit 69 if Temporal is down, before any scenario starts
        await capture({
          release: o.release,
          address: ctx.config.temporal.address,
          ...(o.only ? { only: o.only.split(',') } : {}),
          planned: (total) => {
            bar = progress(ctx, total, 'capturing');
          },
          report: (line) => {
            written.push(line);
            bar?.tick();
            // With a bar the lines come at the end, so the bar is not torn by them.
            if (!ctx.json && !ctx.io.tty) ctx.io.out(line);
          },
        }).finally(() => bar?.stop());
        if (ctx.json) ctx.io.out(JSON.stringify({ release: o.release, histories: written }, null, 2));
        else if (ctx.io.tty) for (const line of written) ctx.io.out(line);
      }),
    );
}
