import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { dataConverter } from '../platform/codec/data-converter';
import { readConfig } from '../platform/config';
import { WORKFLOW_TYPE } from '../workflows/definitions';
import { bundleWorkflows, coreMessage, sagaSinks, sagaWorkflowsPath } from '../versioning/replay';

/**
 * `npm run replay:live -- [--limit 500] [--query "<visibility query>"] [--workflows <module>]`
 * Before a deploy: fetches the histories of the sagas running now (or those the query selects)
 * and replays them against the workflow code of this checkout (or the given workflows module). Any saga the new code could not
 * resume is listed with the event; exit code 1 if there is one. Payloads are decrypted with the
 * configured keyring (PAYLOAD_KEYS), as the saga worker would.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { limit: { type: 'string', default: '500' }, query: { type: 'string' }, workflows: { type: 'string' } },
  });
  const config = readConfig();
  const converter = dataConverter(config.payloads.keyring);
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const query = values.query ?? `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
    const limit = Number(values.limit);
    const histories = [];
    for await (const info of client.workflow.list({ query })) {
      if (histories.length >= limit) break;
      histories.push({
        workflowId: info.workflowId,
        history: await client.workflow.getHandle(info.workflowId, info.runId).fetchHistory(),
      });
    }
    const workflowBundle = await bundleWorkflows(
      values.workflows ? require.resolve(resolve(values.workflows)) : sagaWorkflowsPath(),
    );
    let broken = 0;
    for await (const result of Worker.runReplayHistories(
      { workflowBundle, dataConverter: converter, replayName: 'live', sinks: sagaSinks() },
      histories,
    )) {
      if (!result.error) continue;
      broken++;
      console.log(`${result.workflowId}: ${coreMessage(result.error)}`);
    }
    console.log(`replayed ${histories.length} saga(s) against this checkout: ${broken} would not resume`);
    return broken === 0 ? 0 : 1;
  } finally {
    await connection.close();
  }
}

Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
});
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
