import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { TEST_DATABASE_ROOT, TEST_TOPIC_ROOT } from './env';

/**
 * What a test run leaves on the shared stack, removed at its end: the Kafka topics under
 * `trapeze-test.<tag>.` and the PostgreSQL databases `trapeze_test_<tag>_…` of this run, and of any
 * earlier run whose process is gone (killed mid-run), and the `it-<hex>.` topics of test runs from
 * before runs were tagged. Runs still going keep theirs. Sagas need no
 * sweep: they live in the tests' own namespace, where the server's retention expires them.
 */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The tag of a run whose leftovers may go: this run's, or one whose process has exited. */
export const removable = (tag: string, ownTag: string): boolean => {
  if (tag === ownTag) return true;
  const pid = /^p(\d+)$/.exec(tag)?.[1];
  return pid !== undefined && !alive(Number(pid));
};

export const topicTag = (topic: string): string | undefined =>
  topic.startsWith(`${TEST_TOPIC_ROOT}.`) ? topic.split('.')[1] : undefined;

/**
 * Topics of test runs from before runs were tagged: `it-<8 hex>.<topic>`, the consumer tests'
 * private copies of the context topics until commit 1ec76e2. Nothing makes them any more, so each
 * is a leftover whatever process made it. The prefix is anchored: a production topic (`trapeze.*`)
 * never matches.
 */
export const legacyTestTopic = (topic: string): boolean => /^it-[0-9a-f]{8}\./.test(topic);

/** Whether the clean-up deletes this topic: a legacy test topic, or one of a run that may go. */
export const removableTopic = (topic: string, ownTag: string): boolean => {
  if (legacyTestTopic(topic)) return true;
  const tag = topicTag(topic);
  return tag !== undefined && removable(tag, ownTag);
};

export const databaseTag = (name: string): string | undefined =>
  new RegExp(`^${TEST_DATABASE_ROOT}_(p\\d+)_[0-9a-f]+$`).exec(name)?.[1];

export async function deleteTestTopics(brokers: string[], ownTag: string): Promise<number> {
  const admin = new Kafka({ clientId: 'test-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => removableTopic(t, ownTag));
    // In slices: one request naming hundreds of topics outlives the admin client's timeout.
    for (let i = 0; i < topics.length; i += 50) await admin.deleteTopics({ topics: topics.slice(i, i + 50), timeout: 30_000 });
    return topics.length;
  } finally {
    await admin.disconnect();
  }
}

export async function dropTestDatabases(url: string, ownTag: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `${TEST_DATABASE_ROOT}\\_p%`,
    ]);
    const names = rows
      .map((r) => r.datname)
      .filter((n) => {
        const tag = databaseTag(n);
        return tag !== undefined && removable(tag, ownTag);
      });
    for (const name of names) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    return names.length;
  } finally {
    await client.end();
  }
}
