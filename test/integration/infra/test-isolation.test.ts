// Invariant: a test run leaves the user's stack as it found it. Its sagas go to a namespace of
// their own (never `default`, which `npm start` and the UI show), and the topics and databases it
// made are removed at its end, together with those of runs that were killed and the `it-<hex>.`
// topics of runs from before runs were tagged; a run still going keeps its own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { Connection } from '@temporalio/client';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { deleteTestTopics, dropTestDatabases } from '../../cleanup';
import { kafkaBrokers, postgresUrl, TEST_NAMESPACE, temporalAddress, temporalNamespace, TEST_TOPIC_ROOT } from '../../env';
import { waitUntil } from '../../wait';

/** The pid of a process that has exited: the tag of a run killed before its clean-up. */
const deadPid = (): number => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout);

test('tests run in their own namespace, which the server knows', async () => {
  assert.equal(temporalNamespace(), TEST_NAMESPACE);
  assert.notEqual(temporalNamespace(), 'default');
  const connection = await Connection.connect({ address: temporalAddress() });
  try {
    const described = await connection.workflowService.describeNamespace({ namespace: temporalNamespace() });
    assert.equal(described.namespaceInfo?.name, TEST_NAMESPACE);
  } finally {
    await connection.close();
  }
});

test("a run's topics, those of a killed run and legacy it-<hex>. topics are deleted; a live run's are kept", async () => {
  const own = `p${randomUUID().slice(0, 8)}`;
  const dead = `p${deadPid()}`;
  const live = `p${process.pid}`;
  const name = (tag: string) => `${TEST_TOPIC_ROOT}.${tag}.isolation-${randomUUID().slice(0, 8)}`;
  const [ownTopic, deadTopic, liveTopic] = [name(own), name(dead), name(live)];
  // As the tests named their topics before runs were tagged.
  const legacyTopic = `it-${randomUUID().slice(0, 8)}.trapeze.orders`;
  const admin = new Kafka({ clientId: 'isolation-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: false,
      topics: [ownTopic, deadTopic, liveTopic, legacyTopic].map((topic) => ({ topic })),
    });
    await waitUntil(
      async () => {
        const topics = await admin.listTopics();
        return [ownTopic, deadTopic, liveTopic, legacyTopic].every((t) => topics.includes(t));
      },
      { what: 'the topics to exist' },
    );
    await deleteTestTopics(kafkaBrokers(), own);
    const left = await waitUntil(
      async () => {
        const topics = await admin.listTopics();
        return [ownTopic, deadTopic, legacyTopic].some((t) => topics.includes(t)) ? undefined : topics;
      },
      { what: "the run's, the killed run's and the legacy topics to be gone", timeoutMs: 60_000 },
    );
    assert.ok(left.includes(liveTopic), 'a live run keeps its topic');
  } finally {
    await admin.deleteTopics({ topics: [liveTopic] }).catch(() => undefined);
    await admin.disconnect();
  }
});

test("a run's databases and those of a killed run are dropped; a live run's are kept", async () => {
  const own = `p${Date.now()}`;
  const dead = `p${deadPid()}`;
  const live = `p${process.pid}`;
  const name = (tag: string) => `trapeze_test_${tag}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const [ownDb, deadDb, liveDb] = [name(own), name(dead), name(live)];
  const admin = new Client({ connectionString: postgresUrl() });
  await admin.connect();
  try {
    for (const db of [ownDb, deadDb, liveDb]) await admin.query(`CREATE DATABASE ${db}`);
    await dropTestDatabases(postgresUrl(), own);
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = ANY($1)', [
      [ownDb, deadDb, liveDb],
    ]);
    assert.deepEqual(
      rows.map((r) => r.datname),
      [liveDb],
    );
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${liveDb}`);
    await admin.end();
  }
});
