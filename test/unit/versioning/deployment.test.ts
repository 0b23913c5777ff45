// Invariant: every saga worker announces the same deployment name and a build id that names its
// code (package version + commit, or BUILD_ID), with the versioning behaviour the operator set.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildId,
  gitCommit,
  packageVersion,
  sagaDeploymentOptions,
  sagaVersioningBehavior,
  SAGA_DEPLOYMENT,
} from '../../../platform/deployment';

test('the build id is the package version and the commit', () => {
  const commit = gitCommit();
  assert.equal(buildId({}), `${packageVersion()}-${commit ?? 'local'}`);
});

test('BUILD_ID overrides the derived build id', () => {
  assert.equal(buildId({ BUILD_ID: 'ci-4711' }), 'ci-4711');
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
