// Invariant: `npm start` and the demo link to the Temporal UI of the server they use, or to none:
// TEMPORAL_UI_URL wins; the embedded dev server's UI when no TEMPORAL_ADDRESS is set; a server on
// this machine by the dev server's convention (gRPC port + 1000); any other server's UI is unknown,
// never localhost:8233 by default.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { temporalUiUrl } from '../../../infra/temporal';

test('TEMPORAL_UI_URL is the UI, whatever the address (without a trailing slash)', () => {
  assert.equal(temporalUiUrl({ TEMPORAL_UI_URL: 'https://temporal.example.com/' }), 'https://temporal.example.com');
  assert.equal(temporalUiUrl({ TEMPORAL_ADDRESS: 'temporal.prod:7233', TEMPORAL_UI_URL: 'https://ui.prod' }), 'https://ui.prod');
  assert.equal(
    temporalUiUrl({ TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_UI_URL: 'http://localhost:9000' }),
    'http://localhost:9000',
  );
});

test('no TEMPORAL_ADDRESS: the embedded dev server, on its UI port', () => {
  assert.equal(temporalUiUrl({}), 'http://localhost:8233');
  assert.equal(temporalUiUrl({}, 18233), 'http://localhost:18233');
  assert.equal(temporalUiUrl({ TEMPORAL_UI_URL: '  ' }), 'http://localhost:8233', 'blank is unset');
});

test('a TEMPORAL_ADDRESS on this machine: the dev server convention, the gRPC port + 1000', () => {
  assert.equal(temporalUiUrl({ TEMPORAL_ADDRESS: '127.0.0.1:7233' }), 'http://localhost:8233');
  assert.equal(temporalUiUrl({ TEMPORAL_ADDRESS: 'localhost:17233' }), 'http://localhost:18233');
  assert.equal(temporalUiUrl({ TEMPORAL_ADDRESS: '[::1]:7233' }), 'http://localhost:8233');
});

test('any other server: unknown, not a guessed localhost link', () => {
  for (const address of ['temporal:7233', 'temporal.prod.internal:7233', '10.0.0.5:7233', 'acme.tmprl.cloud:7233'])
    assert.equal(temporalUiUrl({ TEMPORAL_ADDRESS: address }), undefined, address);
});
