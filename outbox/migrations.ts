import type { Database } from './database';

/**
 * One migration path for both stores. Where the dialects differ, a migration gives both texts;
 * otherwise the same SQL runs on SQLite and PostgreSQL. Each bounded context contributes its own
 * migrations (ids are namespaced by context) and they all run through `migrate`.
 */
export interface Migration {
  id: string;
  sql: string | { sqlite: string; postgres: string };
}

export const outboxMigrations: Migration[] = [
  {
    id: 'outbox/001-outbox',
    sql: {
      sqlite: `CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        topic TEXT NOT NULL,
        msg_key TEXT NOT NULL,
        type TEXT NOT NULL,
        envelope TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        sent_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
      );
      CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;`,
      postgres: `CREATE TABLE IF NOT EXISTS outbox (
        seq BIGSERIAL PRIMARY KEY,
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
  },
];

export async function migrate(db: Database, migrations: Migration[]): Promise<void> {
  await db.run('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)');
  for (const m of migrations) {
    await db.transaction(async (tx) => {
      if (await tx.get('SELECT id FROM schema_migrations WHERE id = ?', [m.id])) return;
      const text = typeof m.sql === 'string' ? m.sql : m.sql[db.dialect];
      for (const statement of text.split(/;\s*(?:\n|$)/).map((s) => s.trim()).filter(Boolean)) {
        await tx.run(statement);
      }
      await tx.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', [m.id, Date.now()]);
    });
  }
}
