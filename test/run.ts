import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../infra/paths';
import { describeStack, startStack, stopOnSignal } from '../infra/stack';
import { deleteTestTopics, dropTestDatabases } from './cleanup';
import { TEST_NAMESPACE } from './env';

/**
 * The one test entry point: `tsx test/run.ts [unit|integration] [filter…]`. Integration tests get
 * a real Temporal dev server, Kafka broker and PostgreSQL, started once for the whole run (or
 * reused when already up) and handed over through the environment; unit and replay tests need none.
 * All files go to one `node --test` run, so its closing summary counts every test.
 *
 * The user's stack stays the user's: sagas go to the tests' own namespace (`trapeze-test`, or
 * TRAPEZE_TEST_NAMESPACE), and the topics and databases the run made are deleted at its end.
 */
function testFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.test.ts')) out.push(relative(repoRoot, path));
    }
  };
  try {
    walk(join(repoRoot, 'test', dir));
  } catch {
    // a suite with no folder yet has no tests
  }
  return out;
}

async function main(): Promise<number> {
  const [suite, ...filters] = process.argv.slice(2);
  // unit: pure logic and the saga's paths with mocked participants, fast; replay: the replay corpus,
  // its coverage, the generated mutations and the interleaving explorer (no servers, minutes);
  // integration: the real stack.
  const all = ['unit', 'replay', 'integration'];
  const suites = suite && all.includes(suite) ? [suite] : all;
  if (suite && !suites.includes(suite)) filters.unshift(suite);
  const files = suites.flatMap(testFiles).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
  if (files.length === 0) throw new Error('no test files matched');

  let env: Record<string, string> = {};
  let stop: () => Promise<void> = async () => undefined;
  if (files.some((f) => f.startsWith(join('test', 'integration')))) {
    const began = Date.now();
    // Set before the stack starts: it registers this namespace (and its search attributes) when missing.
    process.env.TEMPORAL_NAMESPACE = TEST_NAMESPACE;
    const tag = `p${process.pid}`;
    const stack = await startStack({ postgres: true });
    console.log(
      `test stack ready in ${((Date.now() - began) / 1000).toFixed(1)} s (namespace ${TEST_NAMESPACE}, run ${tag}):\n${describeStack(stack)}`,
    );
    env = { ...stack.env, TRAPEZE_TEST_RUN: tag };
    stop = async () => {
      const [topics, databases] = await Promise.all([
        deleteTestTopics(stack.env.KAFKA_BROKERS!.split(','), tag),
        dropTestDatabases(stack.env.POSTGRES_URL!, tag),
      ]).catch((err: unknown) => {
        console.log(`test clean-up incomplete: ${err instanceof Error ? err.message : String(err)}`);
        return [0, 0];
      });
      console.log(`test clean-up: ${topics} topics deleted, ${databases} databases dropped`);
      await stack.stop();
    };
    stopOnSignal(stop);
  }
  const code = await new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--import', './test/setup.cjs', '--test', '--test-concurrency=1', '--test-timeout=600000', ...files],
      { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, ...env } },
    );
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  await stop();
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
