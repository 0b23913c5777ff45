import { Client, Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { participantMigrations } from '../../activities';
import { restock } from '../../activities/inventory/ledger';
import { createOrderClient, type OrderClient } from '../../api/client';
import type { OrderRequest } from '../../domain/order';
import type { Database } from '../../platform/database';
import { migrate, outboxMigrations } from '../../platform/migrations';
import { notificationsMigrations } from '../../consumers/notifications/migrations';
import { orderViewMigrations } from '../../consumers/order-view/migrations';
import { reconciliationMigrations } from '../../reconciliation/findings';
import { repoRoot } from '../../infra/paths';
import { sqliteDatabase, type TestDatabase } from '../databases';
import { kafkaBrokers, temporalAddress, temporalNamespace } from '../env';
import { startTestBroker, type TestBroker } from '../kafka-broker';
import type { OwnServer } from './servers';

/**
 * What one fault case runs in: its own ledgers database, task queue and order ids on the shared
 * local Temporal server, a typed client, the event pipeline (the relay and both consumers, each
 * the real entry point in workers/ as a child process) on its own Kafka topics and consumer
 * groups (`prefix`), and a warehouse that confirms each dispatch some time after the order's
 * OrderConfirmed row appears (so cancellations have a window to land in).
 */
export interface World {
  store: TestDatabase;
  db: Database;
  client: Client;
  orders: OrderClient;
  taskQueue: string;
  label: string;
  /** The Temporal server the case's sagas run on (the shared one unless the case owns one). */
  temporalAddress: string;
  /** The servers the case owns (and may stop): removed with the world. */
  own: { temporal?: OwnServer; postgres?: OwnServer };
  /** KAFKA_TOPIC_PREFIX of this world: its topics are `<prefix>.trapeze.<context>` (and `.dlq`). */
  prefix: string;
  brokers: string[];
  /** A client of the world's broker, for the judge and outside producers. */
  kafka: Kafka;
  /** The world's own broker when the case asked for one (it stops, pauses, restarts it). */
  broker?: TestBroker;
  /** The running processes of each role; a case kills and restarts them. */
  roles: Record<PipelineRole, Role>;
  /** Starts a role's process (the saga worker is started by the case, the others by the world). */
  spawn(role: ProcessRole, env?: Record<string, string>): Role;
  close(): Promise<void>;
}

export type PipelineRole = 'relay' | 'order-view' | 'notifications';
export type ProcessRole = PipelineRole | 'saga-worker';

/** One child process of a role; `restart` replaces it with a fresh one. */
export interface Role {
  child: ChildProcess;
  /** Kills it with `signal` and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** A fresh process of the same role (after a kill or an exit). */
  restart(env?: Record<string, string>): Role;
}

/** Where a case's world lives when not on the shared stack: its own Temporal server, store or Kafka broker. */
export interface WorldOptions {
  temporal?: OwnServer;
  postgres?: OwnServer & { store: TestDatabase };
  /** Runs on a broker of the case's own (free ports, temp storage) instead of the shared one. */
  ownBroker?: boolean;
}

export const STOCKED = 'fault-beans';
export const SHORT = 'fault-unobtainium';

const ENTRY: Record<ProcessRole, string> = {
  'saga-worker': 'workers/saga-worker.ts',
  relay: 'workers/relay.ts',
  'order-view': 'workers/order-view.ts',
  notifications: 'workers/notifications.ts',
};

export async function openWorld(label: string, options: WorldOptions = {}): Promise<World> {
  const store = options.postgres?.store ?? sqliteDatabase();
  const address = options.temporal?.address ?? temporalAddress();
  const db = store.open();
  // Every role's tables up front: the processes then start without writing schema at the same moment.
  await migrate(db, [
    ...participantMigrations,
    ...outboxMigrations,
    ...reconciliationMigrations,
    ...orderViewMigrations,
    ...notificationsMigrations,
  ]);
  await db.transaction((tx) => restock(tx, { [STOCKED]: 1_000_000, [SHORT]: 0 }));
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: temporalNamespace() });
  const taskQueue = `faults-${label}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const broker = options.ownBroker ? await startTestBroker() : undefined;
  const brokers = broker?.brokers ?? kafkaBrokers();
  const kafka = new Kafka({ clientId: `faults-${label}`, brokers, logLevel: logLevel.NOTHING });
  // Each process's output goes to its own log file: shown when a case fails, deleted otherwise.
  const logs = mkdtempSync(join(tmpdir(), `trapeze-faults-${label}-`));
  const streams: WriteStream[] = [];
  const live = new Set<ChildProcess>();
  let failed = false;
  let closing = false;
  const spawnRole = (role: ProcessRole, env: Record<string, string> = {}): Role => {
    const out = createWriteStream(join(logs, `${role}.log`), { flags: 'a' });
    streams.push(out);
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY[role]], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        TEMPORAL_ADDRESS: address,
        TEMPORAL_NAMESPACE: temporalNamespace(),
        DATABASE_URL: store.url,
        KAFKA_BROKERS: brokers.join(','),
        KAFKA_TOPIC_PREFIX: taskQueue,
        SAGA_TASK_QUEUE: taskQueue,
        SAGA_HTTP_PORT: '0',
        RELAY_HTTP_PORT: '0',
        ORDER_VIEW_HTTP_PORT: '0',
        NOTIFICATIONS_HTTP_PORT: '0',
        RELAY_TOPIC_PARTITIONS: '3',
        LOG_LEVEL: 'warn',
        ...env,
      },
    });
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    live.add(child);
    let killed = false;
    child.once('exit', (code, signal) => {
      live.delete(child);
      // A process that ends without the case (or close) killing it is news: say so, keep its log.
      if (!killed && !closing && signal !== 'SIGKILL') {
        failed = true;
        console.error(`  ${label}: ${role} exited on its own (${code ?? signal}); see ${join(logs, `${role}.log`)}`);
      }
    });
    const handle: Role = {
      child,
      async kill(signal = 'SIGKILL') {
        if (child.exitCode !== null || child.signalCode !== null) return;
        killed = true;
        const exited = once(child, 'exit');
        child.kill(signal);
        await exited;
      },
      restart: (more) => spawnRole(role, more ?? env),
    };
    return handle;
  };
  const roles = {
    relay: spawnRole('relay'),
    'order-view': spawnRole('order-view'),
    notifications: spawnRole('notifications'),
  };
  const world: World = {
    store,
    db,
    client,
    orders: createOrderClient(client, { taskQueue }),
    taskQueue,
    label,
    temporalAddress: address,
    own: { temporal: options.temporal, postgres: options.postgres },
    prefix: taskQueue,
    brokers,
    kafka,
    ...(broker ? { broker } : {}),
    roles,
    spawn: spawnRole,
    async close() {
      // A paused broker must run again to stop; then every process of the world, gently.
      closing = true;
      const pid = broker?.pid();
      if (pid) process.kill(pid, 'SIGCONT');
      await Promise.all(
        [...live].map(async (child) => {
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(timer);
        }),
      );
      streams.forEach((s) => s.end());
      await dropTopics(kafka, taskQueue).catch((err: unknown) => {
        failed = true;
        console.error(`  ${label}: could not delete the topics ${taskQueue}.*: ${String(err)}`);
      });
      await broker?.close();
      await connection.close();
      await db.close();
      await store.drop();
      await options.temporal?.remove();
      if (failed) console.error(`  ${label}: process logs kept in ${logs}`);
      else rmSync(logs, { recursive: true, force: true });
    },
  };
  // A case whose verdict is not clean keeps its logs (run.ts calls keepLogs).
  keepLogs.set(world, () => (failed = true));
  return world;
}

const keepLogs = new WeakMap<World, () => void>();
/** Keeps the world's process logs after close (for a case with findings). */
export const keepWorldLogs = (world: World): void => keepLogs.get(world)?.();

/** Deletes every topic of the world (its context topics and their dead-letter topics). */
async function dropTopics(kafka: Kafka, prefix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

/** The burst's orders: most complete; every tenth is declined, every tenth + 5 runs out of stock. */
export function burstOrders(world: World, n: number): Array<{ order: OrderRequest; expected: 'COMPLETED' | 'REJECTED' }> {
  return Array.from({ length: n }, (_, i) => {
    const declined = i % 10 === 0;
    const short = i % 10 === 5;
    return {
      expected: declined || short ? ('REJECTED' as const) : ('COMPLETED' as const),
      order: {
        orderId: `${world.taskQueue}-${i}`,
        customer: { id: `cust-${i % 7}`, name: 'Fault Case', email: 'fault@example.com' },
        lines: [{ sku: short ? SHORT : STOCKED, quantity: 1, unitPrice: { amount: 1000 + i, currency: 'EUR' } }],
        shippingAddress: { name: 'Fault Case', line1: 'Street 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
        payment: { methodToken: declined ? 'tok_decline' : 'tok_visa' },
      },
    };
  });
}

/**
 * The warehouse: confirms each order's dispatch `delayMs()` after its OrderConfirmed row appears,
 * retrying while the saga refuses (not yet waiting); stops trying once the saga has ended.
 */
export function startWarehouse(world: World, delayMs: () => number = () => 0) {
  let stopped = false;
  let lastSeq = 0;
  const pending = new Set<Promise<void>>();
  const confirm = async (orderId: string) => {
    await new Promise((r) => setTimeout(r, delayMs()));
    while (!stopped) {
      const answer = await world.orders.confirmDispatch(orderId, { trackingNumber: `TRK-${orderId}` }).catch(() => undefined);
      if (answer?.accepted || answer?.reason.startsWith('the order is already')) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const loop = (async () => {
    while (!stopped) {
      // The store may be down (a case restarts it): the warehouse keeps polling until it is back.
      const rows = await world.db
        .all<{ seq: number; msg_key: string }>(
          "SELECT seq, msg_key FROM outbox WHERE type = 'OrderConfirmed' AND seq > ? ORDER BY seq",
          [lastSeq],
        )
        .catch(() => []);
      for (const r of rows) {
        lastSeq = Number(r.seq);
        const p = confirm(r.msg_key).finally(() => pending.delete(p));
        pending.add(p);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    await Promise.all(pending);
  };
}
