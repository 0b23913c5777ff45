import type { Command } from 'commander';
import { bundleWorkflows, buildId } from '../platform/deployment';
import { act, type Context } from './context';

/**
 * `trapeze build-id`: the build id of the workflow code in this checkout, the value a CI pipeline
 * stamps as BUILD_ID (a versioned saga worker refuses any id that does not end with the code's hash).
 */
export function buildIdCommand(program: Command, ctx: Context): void {
  program
    .command('build-id')
    .description("the build id of this checkout's workflow code (what CI stamps as BUILD_ID)")
    .action(
      act(ctx, async () => {
        const id = buildId(await bundleWorkflows(require.resolve('../workflows')));
        ctx.emit({ buildId: id }, () => [id]);
      }),
    );
}
