import { WorkflowNotFoundError } from '@temporalio/client';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { workflowIdFor } from '../domain/ids';
import { dataConverter } from '../platform/codec/data-converter';
import { bundleWorkflows, coreMessage, sagaSinks, sagaWorkflowsPath } from '../versioning/replay';
import { WORKFLOW_TYPE } from '../workflows/definitions';
import { act, CliError, EXIT, positiveInt, usageError, type Context } from './context';
import { progress } from './progress';

/**
 * `trapeze replay [history.json | workflowId]`: replays saga histories against the workflow code of
 * this checkout (or --workflows) before a deploy. One history exported from the UI (Download on the
 * workflow's page) or `temporal workflow show --output json`; one live workflow (or order) id; or, by
 * default, the sagas running now (or those --query selects). Any saga the code could not resume is
 * listed with the event: exit 3. Payloads are decrypted with PAYLOAD_KEYS, as the saga worker would.
 */
interface Options {
  query?: string;
  limit: number;
  workflows?: string;
}

function readHistoryFile(file: string): History {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw usageError(`${file} is not a JSON history: ${err instanceof Error ? err.message : String(err)}`);
  }
  // Some exports are the bare list of events.
  return historyFromJSON(Array.isArray(json) ? { events: json } : json);
}

export function replayCommand(program: Command, ctx: Context): void {
  program
    .command('replay')
    .description('replay saga histories against this checkout: a history file, a live workflow id, or the running sagas')
    .argument('[target]', 'a history JSON file exported from the UI, or a workflow id (order-<id>) or order id')
    .option(
      '--query <visibility>',
      `which live sagas (default: WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running')`,
    )
    .option('--limit <n>', 'at most this many live sagas', positiveInt('--limit'), 500)
    .option('--workflows <module>', 'replay against this workflows module instead of the checkout’s')
    .action(
      act(ctx, async (target: string | undefined, o: Options) => {
        if (target && o.query) throw usageError('give a target or --query, not both');
        const histories: Array<{ workflowId: string; history: History }> = [];
        if (target && existsSync(target)) {
          histories.push({ workflowId: basename(target, '.json'), history: readHistoryFile(target) });
        } else {
          const client = await ctx.client();
          if (target) {
            const fetch = (id: string) => client.workflow.getHandle(id).fetchHistory();
            const id = target.startsWith('order-') ? target : workflowIdFor(target);
            const history = await fetch(id).catch((err: unknown) => {
              if (err instanceof WorkflowNotFoundError)
                throw new CliError(`no workflow ${id} (and no history file ${target})`, EXIT.notFound);
              throw err;
            });
            histories.push({ workflowId: id, history });
          } else {
            const query = o.query ?? `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
            const found: Array<{ workflowId: string; runId: string }> = [];
            for await (const info of client.workflow.list({ query })) {
              if (found.length >= o.limit) break;
              found.push({ workflowId: info.workflowId, runId: info.runId });
            }
            const fetching = progress(ctx, found.length, 'fetching histories');
            for (const { workflowId, runId } of found) {
              histories.push({ workflowId, history: await client.workflow.getHandle(workflowId, runId).fetchHistory() });
              fetching.tick();
            }
            fetching.stop();
          }
        }
        const workflowBundle = await bundleWorkflows(o.workflows ? require.resolve(resolve(o.workflows)) : sagaWorkflowsPath());
        const failed: Array<{ workflowId: string; error: string }> = [];
        const replaying = progress(ctx, histories.length, 'replaying');
        for await (const result of Worker.runReplayHistories(
          {
            workflowBundle,
            dataConverter: dataConverter(ctx.config.payloads.keyring),
            replayName: 'trapeze-replay',
            sinks: sagaSinks(),
          },
          histories,
        )) {
          replaying.tick();
          if (result.error) failed.push({ workflowId: result.workflowId, error: coreMessage(result.error) });
        }
        replaying.stop();
        ctx.emit({ replayed: histories.length, failed }, () => [
          ...failed.map((f) => `${f.workflowId}: ${f.error}`),
          `replayed ${histories.length} saga(s) against this checkout: ${failed.length} would not resume`,
        ]);
        return failed.length === 0 ? EXIT.ok : EXIT.block;
      }),
    );
}
