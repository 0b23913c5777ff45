import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Pool, types as pgTypes, type PoolClient, type QueryResult } from 'pg';

/**
 * The one database port that participants' ledgers and the outbox share, so that a state change
 * and its event commit in one transaction. SQL is written once with `?` placeholders; the
 * PostgreSQL adapter numbers them.
 */
export type SqlValue = string | number | bigint | boolean | null | Buffer;

export interface Sql {
  all<T>(sql: string, params?: SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: SqlValue[]): Promise<{ changes: number }>;
}

/** A transaction: SQL, plus a lock on a business key that it holds until it ends. */
export interface Tx extends Sql {
  /**
   * Waits until no other transaction holds `key`, then holds it until this one commits or rolls
   * back: a step and its undo lock the step's key, so an empty undo and a late step never both
   * decide that the other has not happened. Rows that do not exist yet cannot be row-locked.
   */
  lock(key: string): Promise<void>;
}

export interface Database extends Sql {
  readonly dialect: 'sqlite' | 'postgres';
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** `sqlite:<path>` (or `:memory:`) for the embedded default, `postgres://…` for production. */
export interface DatabaseOptions {
  /**
   * false: this connection's commits never wait for the disk (SQLite `synchronous = NORMAL`,
   * PostgreSQL `synchronous_commit = off`). A crash of the machine may then take back its last
   * commits, never half of one. Only for a process whose every write is redone if lost: the relay
   * (a lost claim lapses, a lost mark publishes the batch again, at-least-once).
   */
  commitsWaitForDisk?: boolean;
}

/** The ways a SQLite URL may ask its commits to reach the disk (`sqlite:<path>?synchronous=full`). */
const SQLITE_SYNCHRONOUS = ['normal', 'full'] as const;

export function openDatabase(url: string, { commitsWaitForDisk = true }: DatabaseOptions = {}): Database {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgres(url, commitsWaitForDisk);
  const [path = '', query = ''] = url.replace(/^sqlite:(\/\/)?/, '').split('?', 2);
  const asked = (new URLSearchParams(query).get('synchronous') ?? 'normal').toLowerCase();
  const synchronous = SQLITE_SYNCHRONOUS.find((s) => s === asked);
  if (!synchronous)
    throw new Error(`DATABASE_URL: synchronous=${asked} is not one of ${SQLITE_SYNCHRONOUS.join(', ')} (in ${url})`);
  return openSqlite(path, commitsWaitForDisk ? synchronous : 'normal');
}

const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/**
 * WAL with `synchronous = NORMAL` by default (better-sqlite3's build default, and the usual
 * production setting for SQLite): a commit survives the process crashing at any point, but a power
 * cut or OS crash may take back the last commits, whose activities Temporal may have recorded as
 * done (reconciliation then reports them). `?synchronous=full` syncs the WAL at every commit
 * instead: durable across power loss, at ~1.5 ms per commit on this machine's disk, during which
 * better-sqlite3 holds the event loop (saga/bare 0.69 against 0.80, measured).
 */
function openSqlite(path: string, synchronous: (typeof SQLITE_SYNCHRONOUS)[number]): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
  db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  db.pragma('foreign_keys = ON');
  const toParams = (params: SqlValue[]) => params.map((p) => (typeof p === 'boolean' ? Number(p) : p));
  // Preparing is a large share of a small statement's cost (the relay runs a few per batch), so
  // statements are kept by their text; the bound keeps generated IN-lists from growing it forever.
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepare = (sql: string) => {
    let stmt = statements.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      if (statements.size >= 500) statements.clear();
      statements.set(sql, stmt);
    }
    return stmt;
  };
  const direct: Sql = {
    all: async <T>(sql: string, params: SqlValue[] = []) => prepare(sql).all(...toParams(params)) as T[],
    get: async <T>(sql: string, params: SqlValue[] = []) => prepare(sql).get(...toParams(params)) as T | undefined,
    run: async (sql: string, params: SqlValue[] = []) => {
      const stmt = prepare(sql);
      if (!stmt.reader) return { changes: stmt.run(...toParams(params)).changes };
      stmt.all(...toParams(params));
      return { changes: 0 };
    },
  };
  /**
   * Takes the write lock, waiting for another process's transaction without blocking this one.
   * SQLite's busy handler waits inside the call: the whole event loop (a relay's Kafka sends with
   * it) stops, in sleeps that grow to 100 ms however soon the lock frees (the relay's lag on SQLite:
   * event loop stalls of 120 ms at p99 under a saga worker's writes). So the waiting happens here, a
   * millisecond or a few at a time, for the same 5 s at most.
   */
  const beginImmediate = async () => {
    const deadline = Date.now() + SQLITE_BUSY_TIMEOUT_MS;
    for (let pause = 1; ; pause = Math.min(pause * 2, 4)) {
      db.pragma('busy_timeout = 0');
      try {
        db.exec('BEGIN IMMEDIATE');
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
      } finally {
        db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  };
  // One connection: async transactions must not interleave, so every call queues behind the last.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };
  return {
    dialect: 'sqlite',
    all: (sql, params) => serial(() => direct.all(sql, params)),
    get: (sql, params) => serial(() => direct.get(sql, params)),
    run: (sql, params) => serial(() => direct.run(sql, params)),
    transaction: (fn) =>
      serial(async () => {
        await beginImmediate();
        try {
          // BEGIN IMMEDIATE already serialises every writer, in this process and in any other.
          const result = await fn({ ...direct, lock: async () => undefined });
          db.exec('COMMIT');
          return result;
        } catch (err) {
          db.exec('ROLLBACK');
          throw err;
        }
      }),
    close: () => serial(async () => void db.close()),
  };
}

// BIGINT columns (sequence numbers, epoch milliseconds) fit in a JS number for centuries.
const INT8: number = pgTypes.builtins.INT8;
const parsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8
      ? (v: string) => Number(v)
      : (pgTypes.getTypeParser(oid, format ?? 'text') as (v: string) => unknown)) as typeof pgTypes.getTypeParser,
};

// Any constant works, as long as every process uses the same one (two-key advisory locks do not
// share a key space with the one-key migration lock); it spells "step".
const STEP_LOCKS = 0x73746570;

/**
 * Statements that run often enough to keep parsed and planned on each PostgreSQL connection
 * (named prepared statements): an outbox append parsed and planned per call cost its database
 * ~1.5x the CPU of a prepared one (measured: 144-160 against 94-102 ms per 1,000 appends). Only
 * fixed texts: a name holds its statement on every connection for the connection's life. SQLite
 * keeps every statement prepared anyway (openSqlite).
 */
const preparedNames = new Map<string, string>();
export function preparedStatement(sql: string): string {
  if (!preparedNames.has(sql)) preparedNames.set(sql, `trapeze_${preparedNames.size + 1}`);
  return sql;
}

function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * A text of several statements (possible only without parameters) runs as one implicit
 * transaction in one round trip; it answers with the last statement's rows.
 */
const lastRows = (result: QueryResult | QueryResult[]) =>
  (Array.isArray(result) ? (result[result.length - 1]?.rows ?? []) : result.rows) as unknown[];

function clientSql(client: Pool | PoolClient): Sql {
  const query = (sql: string, params: SqlValue[]) =>
    client.query({ name: preparedNames.get(sql), text: numbered(sql), values: params, types: parsers });
  return {
    all: async <T>(sql: string, params: SqlValue[] = []) => lastRows(await query(sql, params)) as T[],
    get: async <T>(sql: string, params: SqlValue[] = []) => (await query(sql, params)).rows[0] as T | undefined,
    run: async (sql: string, params: SqlValue[] = []) => ({ changes: (await query(sql, params)).rowCount ?? 0 }),
  };
}

function openPostgres(url: string, commitsWaitForDisk: boolean): Database {
  const pool = new Pool({
    connectionString: url,
    max: 10,
    ...(commitsWaitForDisk ? {} : { options: '-c synchronous_commit=off' }),
  });
  // An idle connection the server closes (restart, failover, admin) is dropped from the pool and
  // replaced on next use; unhandled, its 'error' event would crash the whole process.
  pool.on('error', () => undefined);
  return {
    dialect: 'postgres',
    ...clientSql(pool),
    transaction: async (fn) => {
      const client = await pool.connect();
      // Checked out, the client is off the pool's 'error' listener: a connection the server drops
      // between two statements (restart, failover) would emit 'error' to no one and crash the
      // process. Heard here, it fails this transaction only, and the connection is destroyed.
      let lost: Error | undefined;
      const onError = (err: Error) => {
        lost = err;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const sql = clientSql(client);
        const result = await fn({
          ...sql,
          // A hash collision only makes two unrelated keys wait for each other, never share a decision.
          lock: async (key) => void (await sql.get(`SELECT pg_advisory_xact_lock(${STEP_LOCKS}, hashtext(?))`, [key])),
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackFailed: Error) => {
          lost ??= rollbackFailed;
        });
        throw err;
      } finally {
        client.off('error', onError);
        client.release(lost);
      }
    },
    close: () => pool.end(),
  };
}
