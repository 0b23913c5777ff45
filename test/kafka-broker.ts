import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from '../infra/kafka';
import type { Service } from '../infra/supervise';

/**
 * A Kafka broker of the test's own, for tests that must stop and restart Kafka without touching
 * the shared one: KRaft from the cached jars, on free ports, storage in a temp dir that survives
 * a restart (so topics and offsets do too).
 */
export interface TestBroker {
  brokers: string[];
  /** SIGTERM (controlled shutdown), then waits for the process to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and storage; resolves once it answers. */
  start(): Promise<void>;
  /** The running broker's process id (none while stopped). */
  pid(): number | undefined;
  /** Stops it and deletes its storage. */
  close(): Promise<void>;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port whose successor is free too (the KRaft controller listens on port + 1). */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    if ((await portIsFree(port)) && (await portIsFree(port + 1))) return port;
  }
  throw new Error('no free port pair found');
}

export async function startTestBroker(): Promise<TestBroker> {
  const port = await freePortPair();
  const dir = mkdtempSync(join(tmpdir(), 'trapeze-kafka-'));
  const name = `kafka-test-${port}`;
  let service: Service | undefined = await startBroker({ port, dir, name });
  return {
    brokers: [`127.0.0.1:${port}`],
    async stop() {
      await service?.stop();
      service = undefined;
    },
    async start() {
      service ??= await startBroker({ port, dir, name });
    },
    pid: () => service?.pid,
    async close() {
      await service?.stop();
      service = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
