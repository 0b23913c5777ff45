import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { openDatabase, type Database } from '../platform/database';
import { postgresUrl, TEST_DATABASE_ROOT, testRunTag } from './env';

/** A throwaway database of either kind, so one test suite can run against both stores. */
export interface TestDatabase {
  kind: 'sqlite' | 'postgres';
  url: string;
  open(): Database;
  drop(): Promise<void>;
}

export function sqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'trapeze-db-'));
  const url = `sqlite:${join(dir, 'trapeze.db')}`;
  return { kind: 'sqlite', url, open: () => openDatabase(url), drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh database on the test PostgreSQL server, dropped (with its connections) afterwards. */
export async function postgresDatabase(): Promise<TestDatabase> {
  const admin = postgresUrl();
  // Named for the run, so test/cleanup.ts drops what a killed test left behind.
  const name = `${TEST_DATABASE_ROOT}_${testRunTag()}_${randomBytes(6).toString('hex')}`;
  const client = new Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    url: url.toString(),
    open: () => openDatabase(url.toString()),
    drop: async () => {
      const c = new Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export const bothStores = [
  { kind: 'sqlite' as const, create: async () => sqliteDatabase() },
  { kind: 'postgres' as const, create: postgresDatabase },
];
