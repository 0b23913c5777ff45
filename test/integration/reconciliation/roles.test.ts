// Invariant: the reconciliation worker's findings queue answers operators only. Every route on its
// port, route × caller: 401 without a token or with one no role has, 403 for a client or warehouse
// token, the answer itself for an operator; a refused request changes nothing (an ack or resolve
// refused leaves the finding open, a refused run starts no workflow). Health and metrics stay open
// for probes and scrapers, as on every other worker.
import { Client, Connection } from '@temporalio/client';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { developmentTokens, tokenListOf } from '../../../platform/auth';
import { readConfig } from '../../../platform/config';
import type { Database } from '../../../platform/database';
import { findingById, lastRuns, recordFindings } from '../../../reconciliation/findings';
import { startReconciliationWorker, type ReconciliationWorker } from '../../../workers/reconciliation';
import { sqliteDatabase } from '../../databases';
import { temporalAddress, temporalNamespace } from '../../env';
import { waitUntil } from '../../wait';
import { uniqueId } from '../workflows/harness';

type Who = 'nobody' | 'forged' | 'client' | 'warehouse' | 'operator';
const WHO: readonly Who[] = ['nobody', 'forged', 'client', 'warehouse', 'operator'];
const dev = developmentTokens();
const tokenOf = (who: Who): string | undefined =>
  who === 'nobody' ? undefined : who === 'forged' ? 'trp_operator_not-a-configured-token' : dev.tokens[who];

const store = sqliteDatabase();
const taskQueue = uniqueId('reconcile-roles');
let db: Database;
let worker: ReconciliationWorker;
let client: Client;
let url: string;
before(async () => {
  db = store.open();
  const config = readConfig({
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_NAMESPACE: temporalNamespace(),
    DATABASE_URL: store.url,
    RECONCILIATION_HTTP_PORT: '0',
    RECONCILIATION_SCHEDULE: 'off',
    RECONCILIATION_TASK_QUEUE: taskQueue,
    // The tokens as a deployment configures them: hashes only.
    API_TOKENS: tokenListOf(dev.entries),
  });
  worker = await startReconciliationWorker({ config, log: pino({ level: 'silent' }), db });
  url = `http://127.0.0.1:${worker.port}`;
  client = new Client({ connection: await Connection.connect({ address: temporalAddress() }), namespace: temporalNamespace() });
});
after(async () => {
  await worker?.stop();
  await client?.connection.close();
  await db?.close();
  await store.drop();
});

const call = async (who: Who, method: string, path: string, body?: unknown) => {
  const token = tokenOf(who);
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, text };
};

async function aFinding(label: string): Promise<string> {
  const orderId = uniqueId(label);
  await recordFindings(db, {
    runId: 'roles-test',
    rule: 'captured-without-shipment',
    candidates: [{ subject: orderId, orderId, summary: `order ${orderId} captured, no shipment`, detail: {} }],
    observedAt: Date.now(),
  });
  return `captured-without-shipment:${orderId}`;
}

test('every findings route, route × caller: 401, 401, 403, 403, then the operator is answered; refusals change nothing', async () => {
  const finding = await aFinding('roles');
  const routes: Array<{ method: string; path: string; body?: unknown; operator: number }> = [
    { method: 'GET', path: '/reconciliation/findings', operator: 200 },
    { method: 'GET', path: `/reconciliation/findings/${finding}`, operator: 200 },
    { method: 'GET', path: '/reconciliation/runs', operator: 200 },
    { method: 'POST', path: `/reconciliation/findings/${finding}/ack`, body: { by: 'ops' }, operator: 200 },
    {
      method: 'POST',
      path: `/reconciliation/findings/${finding}/resolve`,
      body: { by: 'ops', resolution: 'shipped' },
      operator: 200,
    },
    { method: 'POST', path: '/reconciliation/runs', body: {}, operator: 202 },
  ];
  const expected: Record<Who, number | 'operator'> = {
    nobody: 401,
    forged: 401,
    client: 403,
    warehouse: 403,
    operator: 'operator',
  };
  const table: string[] = [];
  const want: string[] = [];
  // The refused callers first, so that what they would have changed is still there to look at.
  for (const who of WHO.filter((w) => w !== 'operator')) {
    for (const r of routes) {
      table.push(`${who} ${r.method} ${r.path} ${(await call(who, r.method, r.path, r.body)).status}`);
      want.push(`${who} ${r.method} ${r.path} ${String(expected[who])}`);
    }
  }
  assert.deepEqual(table, want);
  const untouched = await findingById(db, finding);
  assert.equal(untouched?.state, 'open', 'a refused ack or resolve leaves the finding open');
  assert.equal(untouched?.acknowledged, null);
  assert.equal(untouched?.resolved, null);
  assert.deepEqual(await lastRuns(db, 20), [], 'a refused run starts nothing');

  for (const r of routes) {
    table.push(`operator ${r.method} ${r.path} ${(await call('operator', r.method, r.path, r.body)).status}`);
    want.push(`operator ${r.method} ${r.path} ${r.operator}`);
  }
  assert.deepEqual(table, want);
  assert.equal((await findingById(db, finding))?.state, 'resolved');

  // Only the operator's run ran: one reconciliation workflow on this worker's queue.
  await waitUntil(async () => (await lastRuns(db, 20)).some((r) => r.finishedAt !== null), {
    what: "the operator's run to report",
    timeoutMs: 120_000,
  });
  const started = await waitUntil(
    async () => {
      const ids: string[] = [];
      for await (const w of client.workflow.list({ query: `TaskQueue = "${taskQueue}"` })) ids.push(w.workflowId);
      return ids.length ? ids : undefined;
    },
    { what: 'the run in visibility', timeoutMs: 60_000 },
  );
  assert.equal(started.length, 1, `one run, the operator's: ${started.join(', ')}`);
  assert.equal((await lastRuns(db, 20)).length, 1);
});

test('a malformed or wrong-scheme Authorization header is a 401 too, and says how to authenticate', async () => {
  for (const authorization of ['Bearer', `Basic ${Buffer.from('ops:pw').toString('base64')}`, `Token ${dev.tokens.operator}`]) {
    const res = await fetch(`${url}/reconciliation/findings`, { headers: { authorization } });
    assert.equal(res.status, 401, authorization);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
  }
});

test('health and metrics stay open, as on every worker: probes and scrapers carry no token', async () => {
  for (const path of ['/healthz', '/metrics']) assert.equal((await call('nobody', 'GET', path)).status, 200, path);
});
