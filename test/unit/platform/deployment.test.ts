// Invariant: every saga worker announces the same deployment name and a build id that names its
// workflow code: two different codes never share a derived build id (with or without .git), the
// same code always gets the same one, and an explicit BUILD_ID that does not end with the code's
// hash is refused; the versioning behaviour is the one the operator set.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import {
  buildId,
  bundleWorkflows,
  packageVersion,
  sagaDeploymentOptions,
  sagaVersioningBehavior,
  SAGA_DEPLOYMENT,
  verifiedBuildId,
  workflowCodeHash,
} from '../../../platform/deployment';

const fixture = require.resolve('../../fixtures/deployment/workflows');
const changed = require.resolve('../../fixtures/deployment/changed/workflows');
let original: WorkflowBundle;
let edited: WorkflowBundle;
const quiet = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: console.error,
};
before(async () => {
  // The SDK's own bundler: any bundle of the code must get the code's id.
  const bundle = (workflowsPath: string) => bundleWorkflowCode({ workflowsPath, logger: quiet });
  [original, edited] = [await bundle(fixture), await bundle(changed)];
});

test('two different workflow codes get different build ids', () => {
  assert.notEqual(buildId(original), buildId(edited));
  assert.match(buildId(original), new RegExp(`^${packageVersion().replace(/\./g, '\\.')}-[0-9a-f]{12}$`));
});

test('the same workflow code gets the same build id, whichever directory the process starts in', async () => {
  const cwd = process.cwd();
  process.chdir(mkdtempSync(join(tmpdir(), 'trapeze-cwd-')));
  try {
    const elsewhere = buildId(await bundleWorkflows(fixture));
    process.chdir(cwd);
    assert.equal(buildId(await bundleWorkflows(fixture)), elsewhere);
  } finally {
    process.chdir(cwd);
  }
});

test('BUILD_ID overrides the derived build id', () => {
  assert.equal(buildId(original, 'ci-4711'), 'ci-4711');
});

test('a BUILD_ID that does not end with the hash of the code is refused; one that does is kept', () => {
  assert.throws(() => verifiedBuildId(original, `${packageVersion()}-local`), /does not identify this worker's workflow code/);
  assert.throws(() => verifiedBuildId(original, buildId(edited)), /does not identify/, "another code's id");
  assert.equal(verifiedBuildId(original), buildId(original));
  const stamped = `ci-4711-${workflowCodeHash(original)}`;
  assert.equal(verifiedBuildId(original, stamped), stamped);
});

test('SAGA_VERSIONING_BEHAVIOR is PINNED by default and rejects unknown values', () => {
  assert.equal(sagaVersioningBehavior({}), 'PINNED');
  assert.equal(sagaVersioningBehavior({ SAGA_VERSIONING_BEHAVIOR: 'AUTO_UPGRADE' }), 'AUTO_UPGRADE');
  assert.throws(() => sagaVersioningBehavior({ SAGA_VERSIONING_BEHAVIOR: 'SOMETIMES' }));
});

test('the worker deployment options use worker versioning under the saga deployment', () => {
  const options = sagaDeploymentOptions({ buildId: 'b1', behavior: 'AUTO_UPGRADE' });
  assert.deepEqual(options, {
    useWorkerVersioning: true,
    version: { deploymentName: SAGA_DEPLOYMENT, buildId: 'b1' },
    defaultVersioningBehavior: 'AUTO_UPGRADE',
  });
});
