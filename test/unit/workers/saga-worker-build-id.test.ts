// Invariant: with worker versioning on, a saga worker whose BUILD_ID does not name the workflow
// code it carries refuses to start, before it touches the database or the Temporal server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readConfig } from '../../../platform/config';
import { startSagaWorker } from '../../../workers/saga-worker';

test('a versioned saga worker whose BUILD_ID does not name its workflow code refuses to start', async () => {
  const config = readConfig({
    SAGA_WORKER_VERSIONING: 'on',
    BUILD_ID: '1.1.0-local',
    DATABASE_URL: 'sqlite::memory:',
    // Nothing listens here: reaching the server would fail differently (and slowly).
    TEMPORAL_ADDRESS: '127.0.0.1:1',
  });
  await assert.rejects(startSagaWorker({ config }), /BUILD_ID 1\.1\.0-local does not identify this worker's workflow code/);
});
