// Invariant: docker-compose.yml, which users run and the tests never do, stays a valid Compose
// file that describes every service of the production shape, with Temporal on a PostgreSQL server
// of its own (sharing the application's would hold back the outbox relay's commit-order guard).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { repoRoot } from '../../../infra/paths';

/** `docker compose` (v2 plugin) where it answers, else the standalone `docker-compose`. */
function composeClient(): string[] | undefined {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    const res = spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { encoding: 'utf8' });
    if (res.status === 0) return cmd;
  }
  return undefined;
}

const client = composeClient();
const noClient = client ? false : 'no compose client (neither `docker compose` nor `docker-compose`) on this machine';
if (noClient) console.log(`skipping the compose check: ${noClient}`);

test('docker-compose.yml is valid and describes the production stack', { skip: noClient }, () => {
  const [cmd, ...pre] = client!;
  const res = spawnSync(cmd!, [...pre, '-f', 'docker-compose.yml', 'config', '--services'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const services = res.stdout.trim().split('\n');
  for (const s of [
    'postgresql',
    'temporal-postgresql',
    'temporal',
    'temporal-ui',
    'kafka',
    'saga-worker',
    'relay',
    'notifications',
    'order-view',
    'api',
    'codec-server',
  ]) {
    assert.ok(services.includes(s), `service ${s} in ${services.join(', ')}`);
  }
});

test('Temporal keeps its data on a PostgreSQL server of its own, not on the application server', { skip: noClient }, () => {
  const [cmd, ...pre] = client!;
  const res = spawnSync(cmd!, [...pre, '-f', 'docker-compose.yml', 'config'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const temporal = /\n  temporal:\n([\s\S]*?)\n  \S/.exec(res.stdout)?.[1] ?? '';
  assert.match(temporal, /POSTGRES_SEEDS: temporal-postgresql/);
  assert.doesNotMatch(temporal, /\n\s+postgresql:\n/, 'temporal must not depend on the application database');
  assert.match(res.stdout, /idle_in_transaction_session_timeout=60s/);
});
