import type { Database, Sql } from './database';

/**
 * One migration path for both stores. The same SQL runs on SQLite and PostgreSQL; the one
 * difference every table with a sequence has, `INTEGER PRIMARY KEY AUTOINCREMENT`, is translated
 * for PostgreSQL by `statements`. Where dialects differ further, a migration gives both texts. Each bounded context contributes its own
 * migrations (ids are namespaced by context) and they all run through `migrate`.
 */
export interface Migration {
  id: string;
  sql: string | { sqlite: string; postgres: string };
}

export const outboxMigrations: Migration[] = [
  {
    id: 'outbox/001-outbox',
    sql: `CREATE TABLE IF NOT EXISTS outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      topic TEXT NOT NULL,
      msg_key TEXT NOT NULL,
      type TEXT NOT NULL,
      envelope TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      sent_at BIGINT,
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT
    );
    CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;`,
  },
  {
    // Claims (a lease, so a crashed relay's rows come back), per-row retry backoff, and the
    // per-topic kill switch, stored in the database so that every relay obeys it.
    id: 'outbox/002-relay',
    sql: {
      sqlite: `ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
      ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;
      ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER;
      CREATE INDEX IF NOT EXISTS outbox_unsent_key ON outbox (topic, msg_key, seq) WHERE sent_at IS NULL;
      CREATE TABLE IF NOT EXISTS outbox_pauses (
        topic TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        paused_at INTEGER NOT NULL
      );`,
      // txid: the writing transaction. Sequence numbers are handed out before commit, so on
      // PostgreSQL a later seq can become visible before an earlier one; the relay publishes in
      // (txid, seq) order and only rows older than every running transaction (see postgres-store).
      postgres: `ALTER TABLE outbox
        ADD COLUMN IF NOT EXISTS claimed_by TEXT,
        ADD COLUMN IF NOT EXISTS claimed_until BIGINT,
        ADD COLUMN IF NOT EXISTS next_attempt_at BIGINT,
        ADD COLUMN IF NOT EXISTS txid xid8 NOT NULL DEFAULT pg_current_xact_id();
      CREATE INDEX IF NOT EXISTS outbox_unsent_order ON outbox (txid, seq) WHERE sent_at IS NULL;
      CREATE INDEX IF NOT EXISTS outbox_unsent_key ON outbox (topic, msg_key, txid, seq) WHERE sent_at IS NULL;
      CREATE TABLE IF NOT EXISTS outbox_pauses (
        topic TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        paused_at BIGINT NOT NULL
      );`,
    },
  },
  {
    // Claims move out of the outbox rows (a claim no longer rewrites every row it holds): one row
    // per batch with a token, its lease on the database's clock and its seqs. PostgreSQL keeps them
    // UNLOGGED (no WAL; emptied by a crash, which only republishes the batches in flight).
    // Dead letters: a row that can never be published is parked with its reason in last_error.
    // claimed_by and claimed_until stay, unused, so that older relays fail no statement mid-rollout.
    id: 'outbox/003-claims-dead-letters',
    sql: {
      sqlite: `ALTER TABLE outbox ADD COLUMN parked_at INTEGER;
      CREATE INDEX IF NOT EXISTS outbox_parked ON outbox (seq) WHERE parked_at IS NOT NULL AND sent_at IS NULL;
      CREATE TABLE IF NOT EXISTS outbox_claims (
        token TEXT PRIMARY KEY,
        relay_id TEXT NOT NULL,
        claimed_until INTEGER NOT NULL,
        seqs TEXT NOT NULL
      );`,
      // keys ('topic msg_key'): the claim's keys, which wait while it lives (postgres-store).
      postgres: `ALTER TABLE outbox ADD COLUMN IF NOT EXISTS parked_at BIGINT;
      CREATE INDEX IF NOT EXISTS outbox_parked ON outbox (seq) WHERE parked_at IS NOT NULL AND sent_at IS NULL;
      CREATE INDEX IF NOT EXISTS outbox_retrying ON outbox (next_attempt_at) WHERE next_attempt_at IS NOT NULL AND sent_at IS NULL;
      CREATE UNLOGGED TABLE IF NOT EXISTS outbox_claims (
        token TEXT PRIMARY KEY,
        relay_id TEXT NOT NULL,
        claimed_until BIGINT NOT NULL,
        seqs BIGINT[] NOT NULL,
        keys TEXT[] NOT NULL
      );`,
    },
  },
  {
    // A claim whose batch Kafka acknowledged but whose rows are not marked yet: its keys stop
    // blocking (their later rows may go: the earlier ones are on the topic), its seqs stay held
    // until the mark. On PostgreSQL marking a batch rewrites every row (the costly half of the
    // relay), so the next claim no longer waits for it (see claimScriptOnPostgres).
    id: 'outbox/004-acknowledged-claims',
    sql: `ALTER TABLE outbox_claims ADD COLUMN acked BOOLEAN NOT NULL DEFAULT FALSE;`,
  },
  {
    // PostgreSQL: marking a batch sent rewrote every row of it (non-HOT: sent_at is in the partial
    // indexes' predicates), the largest PostgreSQL share of the relay. Now a narrow queue of
    // (seq, txid) holds the unsent rows: the claim walks it, the mark deletes from it and records
    // the time in the narrow outbox_sent; outbox rows are never rewritten when sent. A trigger
    // queues every insert (appendEvent, an older release's writer mid-rollout, a test's seed), so
    // no writer can leave a row the relay never sees. Existing rows move over here: unsent ones are
    // queued, sent ones keep their time in outbox_sent. The three indexes on `sent_at IS NULL` would
    // now hold every row (sent_at is no longer written) and nothing walks them: dropped.
    // SQLite keeps sent_at on the row (its mark is cheap); two views give readers the same names.
    id: 'outbox/005-unsent-queue',
    sql: {
      sqlite: `CREATE VIEW IF NOT EXISTS outbox_queue AS SELECT seq FROM outbox WHERE sent_at IS NULL;
      CREATE VIEW IF NOT EXISTS outbox_sent AS SELECT seq, sent_at FROM outbox WHERE sent_at IS NOT NULL;`,
      postgres: `CREATE TABLE IF NOT EXISTS outbox_queue (
        seq BIGINT PRIMARY KEY,
        txid xid8 NOT NULL
      );
      CREATE INDEX IF NOT EXISTS outbox_queue_order ON outbox_queue (txid, seq);
      CREATE TABLE IF NOT EXISTS outbox_sent (
        seq BIGINT PRIMARY KEY,
        sent_at BIGINT NOT NULL
      );
      CREATE OR REPLACE FUNCTION outbox_queue_append() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.sent_at IS NULL THEN INSERT INTO outbox_queue (seq, txid) VALUES (NEW.seq, NEW.txid); ELSE INSERT INTO outbox_sent (seq, sent_at) VALUES (NEW.seq, NEW.sent_at); END IF; RETURN NULL; END $$;
      CREATE OR REPLACE TRIGGER outbox_queue_append AFTER INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_queue_append();
      INSERT INTO outbox_queue (seq, txid) SELECT seq, txid FROM outbox WHERE sent_at IS NULL ON CONFLICT (seq) DO NOTHING;
      INSERT INTO outbox_sent (seq, sent_at) SELECT seq, sent_at FROM outbox WHERE sent_at IS NOT NULL ON CONFLICT (seq) DO NOTHING;
      DROP INDEX IF EXISTS outbox_unsent;
      DROP INDEX IF EXISTS outbox_unsent_order;
      DROP INDEX IF EXISTS outbox_unsent_key;`,
    },
  },
];

// Any constant works, as long as every process uses the same one; it spells "trapeze".
const MIGRATION_LOCK = 0x7472617065;

function statements(m: Migration, dialect: Database['dialect']): string[] {
  let text = typeof m.sql === 'string' ? m.sql : m.sql[dialect];
  if (dialect === 'postgres') text = text.replace(/INTEGER PRIMARY KEY AUTOINCREMENT/g, 'BIGSERIAL PRIMARY KEY');
  return text
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Applies the migrations not yet recorded, each in its own transaction. Safe when several
 * processes start at once: on PostgreSQL each transaction first takes a transaction-scoped
 * advisory lock (so the second process waits, then sees the migration recorded); on SQLite
 * `BEGIN IMMEDIATE` already serialises writers.
 */
export async function migrate(db: Database, migrations: Migration[]): Promise<void> {
  const lock = async (tx: Sql) => {
    if (db.dialect === 'postgres') await tx.get('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
  };
  await db.transaction(async (tx) => {
    await lock(tx);
    await tx.run('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)');
  });
  for (const m of migrations) {
    await db.transaction(async (tx) => {
      await lock(tx);
      if (await tx.get('SELECT id FROM schema_migrations WHERE id = ?', [m.id])) return;
      for (const statement of statements(m, db.dialect)) await tx.run(statement);
      await tx.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', [m.id, Date.now()]);
    });
  }
}
