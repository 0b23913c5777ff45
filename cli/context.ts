import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { connectClient } from '../api/connect';
import { readConfig, type Config } from '../platform/config';
import { openDatabase, type Database } from '../platform/database';

/**
 * The one exit-code table of `trapeze`. 2 and 3 keep the meaning the deploy gate has had since it
 * shipped (0 ship / 2 hold / 3 block), so every verdict-like answer uses them; usage and
 * unavailable take the sysexits numbers so they can never be mistaken for a verdict.
 */
export const EXIT = {
  ok: 0,
  internal: 1,
  hold: 2,
  block: 3,
  notFound: 4,
  usage: 64,
  unavailable: 69,
} as const;

export const EXIT_TABLE = `Exit codes (every command):
  0   ok: done; gate ship; canary promote
  1   internal error: an unexpected failure, one line says which
  2   hold / refused: nothing is wrong, but not now (the saga refused a cancel or dispatch,
      gate or canary hold, operator findings open, a finding already closed, the kill switch still on)
  3   block: a check found a defect (gate block, canary roll back, sagas that would not resume,
      event contracts broken)
  4   not found: unknown order, finding, parked row or order view entry
  64  usage error: unknown command or option, missing or malformed argument
  69  unavailable: Temporal, Kafka, the database or a worker is unreachable; one line says what to start`;

/** An answer with its exit code: printed as one line (or {"error"} under --json), never a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
export const usageError = (message: string) => new CliError(message, EXIT.usage);

export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Progress bars only on a terminal. */
  tty: boolean;
}

/** What tests replace: the real server's client and task queue of a harness, a store on a test database. */
export interface Overrides {
  env?: NodeJS.ProcessEnv;
  client?: Client;
  taskQueue?: string;
  database?: (url: string) => Database;
}

export interface Context {
  io: Io;
  env: NodeJS.ProcessEnv;
  config: Config;
  taskQueue: string;
  json: boolean;
  /** A Temporal client with the project's data converter, connected on first use and closed at exit. */
  client(): Promise<Client>;
  /** A database by URL, opened on first use and closed at exit. */
  database(url: string): Database;
  /** Prints `data` under --json, the human lines otherwise. */
  emit(data: unknown, human: () => string[]): void;
  close(): Promise<void>;
}

/** The one line for a server that does not answer: what it is, where, and what to run. */
export function unavailable(what: string, address: string, err: unknown, hint = 'start the stack with `npm start`'): CliError {
  const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new CliError(`${what} unreachable at ${address} (${why}): ${hint}`, EXIT.unavailable);
}

export function createContext(io: Io, overrides: Overrides = {}): Context {
  const env = overrides.env ?? process.env;
  const config = readConfig(env);
  let client: Promise<Client> | undefined = overrides.client ? Promise.resolve(overrides.client) : undefined;
  const owned: Array<() => Promise<void>> = [];
  const databases = new Map<string, Database>();
  const ctx: Context = {
    io,
    env,
    config,
    taskQueue: overrides.taskQueue ?? config.saga.taskQueue,
    json: false,
    client() {
      client ??= connectClient({
        address: config.temporal.address,
        namespace: config.temporal.namespace,
        keyring: config.payloads.keyring,
      }).then(
        (c) => {
          owned.push(() => c.connection.close());
          return c;
        },
        (err: unknown) => {
          throw unavailable(
            'Temporal',
            config.temporal.address,
            err,
            'start the stack with `npm start` (or set TEMPORAL_ADDRESS)',
          );
        },
      );
      return client;
    },
    database(url) {
      let db = databases.get(url);
      if (!db) {
        db = overrides.database?.(url) ?? openDatabase(url);
        databases.set(url, db);
        const opened = db;
        // A database handed in by a test stays open: its owner closes it.
        if (!overrides.database) owned.push(() => opened.close());
      }
      return db;
    },
    emit(data, human) {
      if (ctx.json) io.out(JSON.stringify(data, null, 2));
      else for (const line of human()) io.out(line);
    },
    async close() {
      for (const close of owned.splice(0).reverse()) await close().catch(() => undefined);
    },
  };
  return ctx;
}

/** Maps what a command threw to its exit code and one line. */
export function failure(err: unknown, databaseUrl: string): CliError {
  if (err instanceof CliError) return err;
  // gRPC NOT_FOUND from Temporal (an unknown deployment, workflow or namespace): the server said no such thing.
  if ((err as { code?: unknown } | undefined)?.code === 5 && err instanceof Error)
    return new CliError(err.message.replace(/^5 NOT_FOUND: /, 'not found: '), EXIT.notFound);
  // A database that refuses the connection (PostgreSQL down): what to start, not a stack trace.
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code))
    return unavailable('the database', databaseUrl.replace(/\/\/[^@/]*@/, '//'), err);
  return new CliError(err instanceof Error ? err.message : String(err), EXIT.internal);
}

/** Wraps an action: reads the global --json, returns the exit code the action gives (0 by default). */
export function act<A extends unknown[]>(
  ctx: Context,
  fn: (...args: A) => Promise<number | void> | number | void,
): (...args: [...A, Command]) => Promise<void> {
  return async (...args) => {
    const cmd = args.at(-1) as Command;
    ctx.json = Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json);
    const code = await fn(...(args.slice(0, -1) as A));
    if (typeof code === 'number' && code !== 0) throw new CliError('', code);
  };
}

/** A positive integer option, or a usage error naming it. */
export const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw usageError(`${name} is a positive integer`);
  return n;
};
