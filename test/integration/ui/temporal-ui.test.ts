// Invariant: an operator finds an encrypted saga in the Temporal UI by its OrderId and reads it
// there: its summary, its current details, its search attributes and its input, decoded by the
// codec server (the customer's name in clear on screen) while the server's own history export holds
// only ciphertext. Driven in a real browser: playwright-core with Debian's chromium, no download.
//
// The UI is that of a dev server of this test's own, started as `npm start` starts one: with
// `--ui-codec-endpoint http://localhost:<codec port>/<operator token>`. The dev server's UI cannot
// send a header to the codec server, so the operator's token travels in the endpoint's path, and
// the codec server answers CORS for the UI's origin only (workers/codec-server.ts).
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Connection } from '@temporalio/client';
import { chromium, type Browser } from 'playwright-core';
import pino from 'pino';
import { workflowIdFor } from '../../../domain/ids';
import { registerSearchAttributes, searchAttributes, temporalCli } from '../../../infra/temporal';
import { repoRoot } from '../../../infra/paths';
import { launch, terminate, waitUntilReady } from '../../../infra/supervise';
import { developmentTokens, tokensFrom } from '../../../platform/auth';
import { dataConverter } from '../../../platform/codec/data-converter';
import { ENCRYPTED_ENCODING } from '../../../platform/codec/encryption';
import { parseKeyring } from '../../../platform/codec/keyring';
import { startCodecServer, type CodecServer } from '../../../workers/codec-server';
import { temporalNamespace } from '../../env';
import { waitUntil } from '../../wait';
import { anOrder, DEFAULT_STOCK, reaches, startHarness, uniqueId, type SagaHarness } from '../workflows/harness';

/** Debian's chromium (CHROMIUM_PATH overrides); .ci/run installs it where it is missing. */
const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => !!p && existsSync(p),
);
const skip = chromiumPath ? false : 'no chromium (apt-get install chromium, or set CHROMIUM_PATH)';
if (skip) console.log(`# Temporal UI test skipped: ${skip}`);

/** Where the screenshot goes: test/artifacts/ (ignored by git), kept after the run. */
const artifacts = join(repoRoot, 'test', 'artifacts');

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const keyring = parseKeyring(`k1:${randomBytes(32).toString('base64')}`);
const dev = developmentTokens();
let codec: CodecServer;
let server: ChildProcess;
let serverDir: string;
let address: string;
let uiUrl: string;
let h: SagaHarness;
let browser: Browser | undefined;
const savedAddress = process.env.TEMPORAL_ADDRESS;

before(async () => {
  if (skip) return;
  const [port, uiPort, httpPort, metricsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  uiUrl = `http://localhost:${uiPort}`;
  codec = await startCodecServer({
    keyring,
    tokens: tokensFrom(dev.entries),
    port: 0,
    corsOrigins: [uiUrl, `http://127.0.0.1:${uiPort}`],
    log: pino({ level: 'silent' }),
  });
  address = `127.0.0.1:${port}`;
  serverDir = mkdtempSync(join(tmpdir(), 'trapeze-ui-'));
  server = launch(`temporal-ui-test-${port}`, temporalCli(), [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--db-filename',
    join(serverDir, 'temporal.db'),
    '--namespace',
    temporalNamespace(),
    '--log-level',
    'warn',
    '--ui-disable-news-fetch',
    '--ui-codec-endpoint',
    `${codec.url}/${encodeURIComponent(dev.tokens.operator)}`,
    ...searchAttributes.flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
  ]);
  const serving = async () => {
    const c = await Connection.connect({ address, connectTimeout: 1_000 });
    try {
      await c.workflowService.getSystemInfo({});
      return true;
    } finally {
      await c.close();
    }
  };
  await waitUntilReady('temporal (UI test)', serving, { child: server, timeoutMs: 180_000 });
  await registerSearchAttributes(address);
  // The harness connects to TEMPORAL_ADDRESS: this file's server, not the shared one.
  process.env.TEMPORAL_ADDRESS = address;
  h = await startHarness({ stock: DEFAULT_STOCK, dataConverter: dataConverter(keyring) });
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
});

after(async () => {
  await browser?.close();
  await h?.stop();
  if (savedAddress === undefined) delete process.env.TEMPORAL_ADDRESS;
  else process.env.TEMPORAL_ADDRESS = savedAddress;
  if (server) await terminate(server);
  await codec?.close();
  if (serverDir) rmSync(serverDir, { recursive: true, force: true });
});

test(
  'the UI finds an encrypted saga by OrderId and shows it decoded: summary, details, search attributes, input',
  { skip },
  async () => {
    const orderId = uniqueId('ui');
    const customerName = `Ada ${randomBytes(3).toString('hex')} Lovelace`;
    await h.orders.startOrder(
      anOrder({ orderId, customer: { id: `cust-${orderId}`, name: customerName, email: 'ada@example.com' } }),
    );
    await reaches(h, orderId, 'AWAITING_DISPATCH', 120_000);
    const workflowId = workflowIdFor(orderId);

    // The server's own history export: the name is nowhere in it, in clear or base64.
    const exported = execFileSync(temporalCli(), [
      'workflow',
      'show',
      '-w',
      workflowId,
      '--output',
      'json',
      '--address',
      address,
      '--namespace',
      temporalNamespace(),
    ]).toString();
    // The CLI's JSON shows payload metadata base64-encoded.
    assert.ok(exported.includes(Buffer.from(ENCRYPTED_ENCODING).toString('base64')), 'the export holds encrypted payloads');
    assert.ok(!exported.includes(customerName), 'the name is not in the export in clear');
    assert.ok(!exported.includes(Buffer.from(customerName).toString('base64')), 'nor base64-encoded');

    const page = await browser!.newPage({ viewport: { width: 1440, height: 2000 } });
    try {
      // Found by OrderId, as an operator would: the workflows list filtered by the search attribute.
      const query = encodeURIComponent(`OrderId = "${orderId}"`);
      await page.goto(`${uiUrl}/namespaces/${temporalNamespace()}/workflows?query=${query}`);
      const row = page.getByRole('link', { name: workflowId }).first();
      await row.waitFor({ timeout: 60_000 });
      await row.click();
      await page.waitForURL(new RegExp(`/workflows/${workflowId}/`), { timeout: 60_000 });

      // Markdown (summary, details) is rendered in sandboxed iframes: read every frame's text.
      const text = async () =>
        (
          await Promise.all(
            page.frames().map((f) =>
              f
                .locator('body')
                .innerText()
                .catch(() => ''),
            ),
          )
        ).join('\n');
      const shows = async (wanted: string | RegExp, what: string) => {
        await waitUntil(async () => (await text()).match(wanted), { what: `the UI to show ${what}`, timeoutMs: 60_000 });
      };
      mkdirSync(artifacts, { recursive: true });
      const screenshot = (tab: string) => join(artifacts, `temporal-ui-${orderId}-${tab}.png`);
      // The workflow's page opens on its timeline, with the input decoded by the codec server.
      await shows(customerName, "the decoded input with the customer's name");
      await page.screenshot({ path: screenshot('input'), fullPage: true });
      // The static summary and the current details (payloads too, decoded through the codec).
      await page
        .getByRole('link', { name: 'User Metadata' })
        .or(page.getByRole('tab', { name: 'User Metadata' }))
        .first()
        .click();
      await shows(`Order ${orderId}:`, 'the static summary');
      await shows('Waiting for the warehouse to dispatch', 'the current details');
      await page.screenshot({ path: screenshot('metadata'), fullPage: true });
      await page
        .getByRole('link', { name: 'Search Attributes' })
        .or(page.getByRole('tab', { name: 'Search Attributes' }))
        .first()
        .click();
      await shows(/SagaStatus[\s\S]*AWAITING_DISPATCH|AWAITING_DISPATCH[\s\S]*SagaStatus/, 'the SagaStatus search attribute');
      await shows(`cust-${orderId}`, 'the CustomerId search attribute');
      await page.screenshot({ path: screenshot('search-attributes'), fullPage: true });
      console.log(`# Temporal UI screenshots: ${screenshot('*')}`);
    } catch (err) {
      mkdirSync(artifacts, { recursive: true });
      const failed = join(artifacts, `temporal-ui-${orderId}-failed.png`);
      await page.screenshot({ path: failed, fullPage: true }).catch(() => undefined);
      console.log(
        `# Temporal UI screenshot of the failure: ${failed}\n# page text: ${(
          await page
            .locator('body')
            .innerText()
            .catch(() => '')
        ).slice(0, 3000)}`,
      );
      throw err;
    } finally {
      await page.close();
    }
  },
);
