// Invariant: `npm start` piped to a file or a collector writes JSON lines and nothing else (its
// report included, as log entries), and none of kafkajs's routine noise: no partitioner notice, no
// topic-creation or coordinator-loading replies at warn or above. On a broker of its own, fresh, so
// topic creation and group coordinators are as new as on a user's first start. Its links go to the
// Temporal UI it is told of (TEMPORAL_UI_URL), not to the embedded server's default.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { repoRoot } from '../../../infra/paths';
import { sqliteDatabase } from '../../databases';
import { temporalAddress, temporalNamespace } from '../../env';
import { startTestBroker, type TestBroker } from '../../kafka-broker';
import { waitUntil } from '../../wait';

let broker: TestBroker;
const store = sqliteDatabase();
let child: ChildProcess | undefined;
before(async () => {
  broker = await startTestBroker();
});
after(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await broker.close();
  await store.drop();
});

test('npm start, not on a terminal: JSON lines only, its report among them, no kafkajs noise', async () => {
  let out = '';
  let err = '';
  child = spawn(process.execPath, ['--import', 'tsx', 'workers/start.ts'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_NAMESPACE: temporalNamespace(),
      // A UI of its own address: the report must link there, not to the default localhost:8233.
      TEMPORAL_UI_URL: 'http://temporal-ui.test:8080',
      KAFKA_BROKERS: broker.brokers.join(','),
      DATABASE_URL: store.url,
      ...Object.fromEntries(
        ['API', 'SAGA', 'RELAY', 'NOTIFICATIONS', 'ORDER_VIEW', 'RECONCILIATION'].map((r) => [`${r}_HTTP_PORT`, '0']),
      ),
      CODEC_SERVER_PORT: '0',
    },
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
  await waitUntil(() => out.includes('Ctrl-C stops it.') || child!.exitCode !== null, {
    what: 'npm start to finish its demo',
    timeoutMs: 300_000,
    intervalMs: 500,
  });
  child.kill('SIGTERM');
  await exited;

  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const entries = lines.map((line) => {
    try {
      return JSON.parse(line) as { level: number; msg?: string; component?: string };
    } catch {
      return assert.fail(`not a JSON line: ${line}`);
    }
  });
  const said = entries.map((e) => e.msg ?? '').join('\n');
  assert.match(said, /stack ready in/);
  assert.match(said, /development tokens for this run/);
  assert.match(said, /completes\s+COMPLETED/);
  assert.match(said, /Ctrl-C stops it\./);
  assert.match(said, /UI http:\/\/temporal-ui\.test:8080 \(already running/);
  assert.match(said, /http:\/\/temporal-ui\.test:8080\/namespaces\/[^/]+\/workflows\/order-demo-/);
  assert.doesNotMatch(said, /localhost:8233/, 'no link to a UI that is not the configured one');
  const kafkaNoise = entries.filter((e) => e.component === 'kafkajs' && e.level >= 40);
  assert.deepEqual(kafkaNoise, [], 'kafkajs warned or erred');
  assert.doesNotMatch(out + err, /partitioner/i);
  assert.equal(err.trim(), '', 'nothing on stderr');
});
