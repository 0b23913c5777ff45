// Invariant: every noun of `trapeze` answers on the real stack with the one exit-code table —
// 0 done, 2 hold/refused, 3 block, 4 not found, 64 usage, 69 unavailable (one line, no stack
// trace) — and its --json output has the documented shape; --help answers at every level.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { notificationsMigrations } from '../../../consumers/notifications/migrations';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { EXIT } from '../../../cli/context';
import { sendToDeadLetter } from '../../../consumers/dead-letter';
import { UnreadableEvent } from '../../../events/unreadable';
import { kafkaBrokers } from '../../env';
import { repoRoot } from '../../../infra/paths';
import { migrate, outboxMigrations } from '../../../platform/migrations';
import { reconciliationMigrations, recordFindings } from '../../../reconciliation/findings';
import { sqliteDatabase, type TestDatabase } from '../../databases';
import { uniqueId } from '../workflows/harness';
import { json, trapeze } from './trapeze';

let store: TestDatabase;
const env = () => ({ DATABASE_URL: store.url, NOTIFICATIONS_DATABASE_URL: store.url, ORDER_VIEW_DATABASE_URL: store.url });
before(() => {
  store = sqliteDatabase();
});
after(() => store.drop());

describe('help and usage', () => {
  test('--help answers 0 at the root, on every noun and on a verb; the root names the exit codes', async () => {
    const root = await trapeze(['--help']);
    assert.equal(root.code, EXIT.ok);
    assert.match(root.out, /64 {2}usage error/);
    for (const noun of ['saga', 'outbox', 'dead-letters', 'notifications', 'order-view', 'rollout', 'reconcile', 'events']) {
      const help = await trapeze([noun, '--help']);
      assert.equal(help.code, EXIT.ok, noun);
      assert.match(help.out, new RegExp(`Usage: trapeze ${noun}`));
    }
    for (const verb of [['canary'], ['replay'], ['gate'], ['saga', 'reset'], ['reconcile', 'findings', 'resolve']]) {
      assert.equal((await trapeze([...verb, '--help'])).code, EXIT.ok, verb.join(' '));
    }
  });

  test('usage errors exit 64: unknown noun or verb, a bare noun, a missing argument or option', async () => {
    for (const argv of [
      ['bogus'],
      ['saga', 'bogus'],
      ['saga'],
      ['outbox', 'redrive'],
      ['gate'],
      ['rollout', 'ramp', 'b1', 'lots'],
      ['reconcile', 'findings', 'resolve', 'f1'],
      ['reconcile', 'findings', 'list', '--state', 'closed'],
      ['replay', 'order-x', '--query', "WorkflowId = 'x'"],
      ['capture'],
      ['capture', '--release', 'latest'],
    ]) {
      const run = await trapeze(argv, { env: env() });
      assert.equal(run.code, EXIT.usage, `${argv.join(' ')}: ${run.out}${run.err}`);
    }
    // The `bin` launcher `npx trapeze` runs: the same code, the code as the process's exit status.
    const launched = spawnSync(process.execPath, ['cli/bin.cjs', 'saga', 'show'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(launched.status, EXIT.usage, launched.stderr);
    assert.match(launched.stderr, /missing required argument 'orderId'/);
    const gate = await trapeze(['gate', '--candidate', 'no-such-ref-anywhere', '--offline']);
    assert.equal(gate.code, EXIT.usage);
    assert.match(gate.err, /names no commit/);
  });
});

describe('servers that do not answer', () => {
  test('Temporal unreachable: one line naming what to start, exit 69 (and {"error"} under --json)', async () => {
    const run = await trapeze(['saga', 'list'], { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    assert.equal(run.code, EXIT.unavailable);
    assert.equal(run.err.split('\n').length, 1, run.err);
    assert.match(run.err, /^Temporal unreachable at 127\.0\.0\.1:1 .*npm start/);
    const asJson = await trapeze(['--json', 'rollout', 'status'], { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    assert.equal(asJson.code, EXIT.unavailable);
    assert.equal(json<{ exitCode: number }>(asJson).exitCode, EXIT.unavailable);
  });

  test('Kafka unreachable: dead-letters says so in one line, exit 69', async () => {
    const run = await trapeze(['dead-letters', 'list', 'trapeze.orders'], { env: { KAFKA_BROKERS: '127.0.0.1:1' } });
    assert.equal(run.code, EXIT.unavailable, run.err);
    assert.match(run.err, /^Kafka unreachable at 127\.0\.0\.1:1 .*npm start/);
  });

  test('no reconciliation worker: reconcile run exits 69 and names the worker to start', async () => {
    const run = await trapeze(['reconcile', 'run'], {
      env: { ...env(), RECONCILIATION_TASK_QUEUE: uniqueId('no-reconciler') },
    });
    assert.equal(run.code, EXIT.unavailable);
    assert.match(run.err, /no reconciliation worker polls .*workers\/reconciliation\.ts/);
  });
});

describe('nouns on the stack', () => {
  test('dead-letters list: none for a topic never parked in; a parked letter with its reason (--json), redrive', async () => {
    const topic = uniqueId('cli-topic');
    const none = await trapeze(['dead-letters', 'list', topic, '--json']);
    assert.equal(none.code, EXIT.ok, none.err);
    assert.deepEqual(json(none), { topic, deadLetters: [] });

    const kafka = new Kafka({ clientId: 'cli-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      const message = { key: Buffer.from('o-1'), value: Buffer.from('not json'), headers: { ce_id: 'ev-1' }, offset: '0' };
      await sendToDeadLetter(
        producer,
        'order-view',
        { topic, partition: 0, message } as never,
        new UnreadableEvent('undecodable', 'not JSON'),
      );
    } finally {
      await producer.disconnect();
    }
    const listed = await trapeze(['dead-letters', 'list', topic, '--consumer', 'order-view', '--json']);
    assert.equal(listed.code, EXIT.ok, listed.err);
    const letters = json<{ deadLetters: Array<{ reason: string; consumer: string; eventId: string | null }> }>(
      listed,
    ).deadLetters;
    assert.deepEqual(
      letters.map((l) => [l.reason, l.consumer, l.eventId]),
      [['undecodable', 'order-view', 'ev-1']],
    );
    const other = await trapeze(['dead-letters', 'list', topic, '--consumer', 'notifications']);
    assert.match(other.out, /0 dead letter\(s\) in /);
    const redrive = await trapeze(['dead-letters', 'redrive', topic]);
    assert.equal(redrive.code, EXIT.ok, redrive.err);
    assert.match(redrive.out, new RegExp(`redrove 1 dead letter\\(s\\) to ${topic}`));
  });

  test('notifications: pause, resend refused while paused (2), resume, resend', async () => {
    const db = store.open();
    await migrate(db, notificationsMigrations);
    await db.close();
    const pause = await trapeze(['notifications', 'pause', 'incident', '7', '--json'], { env: env() });
    assert.equal(pause.code, EXIT.ok, pause.err);
    assert.equal(json<{ killSwitch: boolean }>(pause).killSwitch, true);
    const refused = await trapeze(['notifications', 'resend'], { env: env() });
    assert.equal(refused.code, EXIT.hold);
    assert.match(refused.err, /kill switch is on/);
    assert.equal((await trapeze(['notifications', 'resume'], { env: env() })).code, EXIT.ok);
    const resent = await trapeze(['notifications', 'resend', '--json'], { env: env() });
    assert.equal(resent.code, EXIT.ok, resent.err);
    assert.deepEqual(json(resent), { resent: 0, killSwitch: false, counts: {} });
    assert.match((await trapeze(['notifications', 'status'], { env: env() })).out, /kill switch: off/);
  });

  test('order-view: an order not in the view exits 4; a customer with none lists 0', async () => {
    const missing = await trapeze(['order-view', 'show', uniqueId('nobody')], { env: env() });
    assert.equal(missing.code, EXIT.notFound, missing.err);
    const customer = uniqueId('customer');
    const orders = await trapeze(['order-view', 'customer', customer, '--json'], { env: env() });
    assert.equal(orders.code, EXIT.ok, orders.err);
    assert.deepEqual(json(orders), { customerId: customer, orders: [] });
  });

  test('reconcile findings: list exits 2 while an operator finding is open; ack, resolve, closed (2), unknown (4)', async () => {
    const db = store.open();
    await migrate(db, outboxMigrations);
    await migrate(db, reconciliationMigrations);
    const orderId = uniqueId('recon');
    await recordFindings(db, {
      runId: 'cli-test',
      rule: 'captured-without-shipment',
      candidates: [{ subject: orderId, orderId, summary: `order ${orderId} captured, no shipment`, detail: {} }],
      observedAt: Date.now(),
    });
    await db.close();
    const listed = await trapeze(['reconcile', 'findings', 'list', '--json'], { env: env() });
    assert.equal(listed.code, EXIT.hold);
    const finding = json<{ findings: Array<{ id: string; state: string; orderId: string | null }> }>(listed).findings.find(
      (f) => f.orderId === orderId,
    );
    assert.ok(finding, listed.out);
    const ack = await trapeze(['reconcile', 'findings', 'ack', finding.id, '--by', 'ops', '--json'], { env: env() });
    assert.equal(ack.code, EXIT.ok, ack.err);
    assert.equal(json<{ finding: { state: string } }>(ack).finding.state, 'acknowledged');
    const resolve = await trapeze(['reconcile', 'findings', 'resolve', finding.id, '--note', 'shipped by hand'], { env: env() });
    assert.equal(resolve.code, EXIT.ok, resolve.err);
    assert.match(resolve.out, /resolved .* by .*: shipped by hand/);
    assert.equal((await trapeze(['reconcile', 'findings', 'ack', finding.id], { env: env() })).code, EXIT.hold);
    assert.equal((await trapeze(['reconcile', 'findings', 'ack', 'no-such-finding'], { env: env() })).code, EXIT.notFound);
    assert.equal((await trapeze(['reconcile', 'findings'], { env: env() })).code, EXIT.ok, 'list is the default verb');
    const rules = await trapeze(['reconcile', 'rules', '--json']);
    assert.ok(json<{ rules: Array<{ id: string }> }>(rules).rules.some((r) => r.id === 'captured-without-shipment'));
  });

  test('rollout status and canary on a deployment that does not exist: exit 4, one line', async () => {
    const deployment = { SAGA_DEPLOYMENT_NAME: uniqueId('no-deployment') };
    const status = await trapeze(['rollout', 'status'], { env: deployment });
    assert.equal(status.code, EXIT.notFound, status.err);
    assert.match(status.err, /^not found: /);
    assert.equal((await trapeze(['canary'], { env: deployment })).code, EXIT.notFound);
  });

  test('replay: a history file exported from a server replays (0); an unknown workflow id exits 4', async () => {
    const file = 'versioning/histories/1.2/cancelled-awaiting-dispatch.json';
    const run = await trapeze(['replay', file, '--json']);
    assert.equal(run.code, EXIT.ok, run.err);
    assert.deepEqual(json(run), { replayed: 1, failed: [] });
    const unknown = await trapeze(['replay', `order-${uniqueId('nobody')}`]);
    assert.equal(unknown.code, EXIT.notFound, unknown.err);
  });

  test('events check holds on the committed tree (--json shape); build-id prints the code hash', async () => {
    const check = await trapeze(['events', 'check', '--json']);
    assert.equal(check.code, EXIT.ok);
    const counts = json<{ eventTypes: number; versions: number; consumers: number; problems: string[] }>(check);
    assert.deepEqual(counts.problems, []);
    assert.ok(counts.eventTypes > 0 && counts.versions >= counts.eventTypes);
    const id = await trapeze(['build-id', '--json']);
    assert.equal(id.code, EXIT.ok, id.err);
    assert.match(json<{ buildId: string }>(id).buildId, /\S+/);
  });
});
