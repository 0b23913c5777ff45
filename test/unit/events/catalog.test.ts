// Invariant: the domain catalog keeps every promise it published: each version matches its
// committed snapshot, every older version upcasts to the newest on its stored example, every
// consumer's declared reads hold, and the generated catalog page and JSON Schema are current.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { z } from 'zod';
import { catalog } from '../../../events/catalog';
import { checkEvents } from '../../../events/check';
import { projectProblems } from '../../../cli/events';
import { Envelope } from '../../../events/envelope';
import { readExamples } from '../../../events/examples';
import { readSnapshots } from '../../../events/snapshots';
import { eventSources } from '../../../versioning/event-sources';
import { upcast } from '../../../events/upcasting';
import { upcasters } from '../../../events/catalog/upcasters';

test('the committed catalog passes the contract check (npm run events:check)', () => {
  assert.deepEqual(projectProblems(), []);
});

test('the CLI exits 0 on the committed tree and says what it checked', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'cli/trapeze.ts', 'events', 'check'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^event contracts hold: \d+ event types, \d+ versions, 2 consumers$/m);
});

test('every stored example reads as the newest version of its event', () => {
  const examples = readExamples(eventSources.examplesDir);
  assert.equal(
    examples.length,
    Object.values(catalog).reduce((n, def) => n + Object.keys(def.versions).length, 0),
  );
  for (const example of examples) {
    const env = Envelope.parse(example.envelope);
    const read = upcast(catalog, upcasters, env);
    assert.equal(
      read.version,
      Math.max(...Object.keys(catalog[env.type as keyof typeof catalog].versions).map(Number)),
      example.file,
    );
  }
});

test('a v1 ShipmentDispatched is upcast to v2 with the dispatch time taken from the envelope', () => {
  const example = readExamples(eventSources.examplesDir).find((e) => e.file === 'ShipmentDispatched.v1.json');
  const env = Envelope.parse(example?.envelope);
  const read = upcast(catalog, upcasters, env);
  assert.equal(read.writtenVersion, 1);
  assert.deepEqual(read.data, { ...(env.data as object), dispatchedAt: env.time });
});

test('dropping a field a consumer reads fails both the snapshot rule and that consumer', () => {
  const v2 = catalog.ShipmentDispatched.versions[2].omit({ trackingNumber: true });
  const edited = {
    ...catalog,
    ShipmentDispatched: { ...catalog.ShipmentDispatched, versions: { ...catalog.ShipmentDispatched.versions, 2: v2 } },
  };
  const problems = checkEvents({
    catalog: edited,
    upcasters,
    contracts: eventSources.contracts,
    snapshots: readSnapshots(eventSources.snapshotsDir),
    examples: [],
  }).filter((p) => p.kind !== 'example');
  assert.deepEqual(
    problems.map((p) => p.message),
    [
      'ShipmentDispatched v2: field "trackingNumber": removed or renamed field (no longer in the schema; breaks both); a change of meaning needs a new version',
      'consumer order-view reads ShipmentDispatched v2 field "trackingNumber": "trackingNumber" is not in the producer schema (removed or renamed)',
    ],
  );
});

test('producers may only write a version the catalog has', () => {
  const problems = checkEvents({
    catalog,
    upcasters,
    contracts: [],
    snapshots: readSnapshots(eventSources.snapshotsDir),
    examples: [],
    produced: { ShipmentDispatched: 3 },
  });
  assert.deepEqual(
    problems.filter((p) => p.kind === 'produced').map((p) => p.message),
    ['ShipmentDispatched: producers write v3, which the catalog does not have'],
  );
});

test('an additive optional field on a published event passes', () => {
  const v1 = catalog.OrderConfirmed.versions[1].extend({ locale: z.string().optional() });
  const edited = { ...catalog, OrderConfirmed: { ...catalog.OrderConfirmed, versions: { 1: v1 } } };
  const problems = checkEvents({
    catalog: edited,
    upcasters,
    contracts: eventSources.contracts,
    snapshots: readSnapshots(eventSources.snapshotsDir),
    examples: [],
  });
  assert.deepEqual(
    problems.filter((p) => p.kind !== 'example'),
    [],
  );
});
