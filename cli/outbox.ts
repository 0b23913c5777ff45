import { migrate, outboxMigrations } from '../platform/migrations';
import { openDatabase } from '../platform/database';
import { readConfig } from '../platform/config';
import { openOutboxStore, type OutboxStore } from '../outbox/store';

/**
 * Operator commands for the outbox (DATABASE_URL):
 *   npm run outbox -- status                    backlog, lag, paused topics, dead letters, what holds publication back
 *   npm run outbox -- dead-letters              rows parked because Kafka can never take them, with the reason
 *   npm run outbox -- redrive <eventId|seq>     puts a parked row back in line (after fixing the cause)
 *   npm run outbox -- pause <topic> <reason…>   the per-topic kill switch: events wait in the outbox
 *   npm run outbox -- resume <topic>
 * Never prints event data (it may hold personal data): ids, keys (order ids), types and sizes only.
 */
export interface OutboxCliContext {
  store: OutboxStore;
  retentionMs: number;
  print: (line: string) => void;
  now?: number;
}

const USAGE = 'usage: npm run outbox -- status | dead-letters | redrive <eventId|seq> | pause <topic> <reason…> | resume <topic>';
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function runOutboxCommand(
  [command, ...args]: string[],
  { store, retentionMs, print, now = Date.now() }: OutboxCliContext,
): Promise<number> {
  switch (command) {
    case 'status': {
      const [backlog, oldest, paused, letters, blocking, prunable] = await Promise.all([
        store.backlog(),
        store.oldestUnsentAgeMs(now),
        store.paused(),
        store.deadLetterCounts(),
        store.oldestBlockingTransaction(),
        store.prunePending(now - retentionMs),
      ]);
      print(`backlog: ${backlog} unsent row(s); oldest unsent ${seconds(oldest)} old`);
      print(`dead letters: ${letters.parked} parked, ${letters.waiting} row(s) waiting behind them`);
      print(`paused topics: ${paused.map((p) => `${p.topic} (${p.reason})`).join(', ') || 'none'}`);
      if (store.dialect === 'postgres')
        print(
          blocking
            ? `oldest blocking transaction: ${seconds(blocking.ageMs)}, ${blocking.state}` +
                `${blocking.pid ? `, pid ${blocking.pid}` : ''}${blocking.application ? `, ${blocking.application}` : ''}` +
                `${blocking.database ? `, database ${blocking.database}` : ''} (rows written after it began wait for it)`
            : 'oldest blocking transaction: none',
        );
      print(`sent rows past the retention, not yet pruned: ${prunable}`);
      return 0;
    }
    case 'dead-letters': {
      const letters = await store.deadLetters();
      for (const l of letters)
        print(
          `${String(l.seq).padStart(8)}  ${l.id}  ${l.topic}  ${l.msgKey}  ${l.type}  ${l.bytes} B  ` +
            `attempts ${l.attempts}  ${l.waiting} waiting  parked ${new Date(l.parkedAt).toISOString()}  ${l.reason}`,
        );
      print(`${letters.length} dead letter(s)`);
      return 0;
    }
    case 'redrive': {
      if (!args[0]) break;
      if (!(await store.redrive(args[0]))) {
        print(`no parked row ${args[0]}`);
        return 1;
      }
      print(`re-driven ${args[0]}: it goes out next, its key's later events after it`);
      return 0;
    }
    case 'pause': {
      if (!args[0] || args.length < 2) break;
      await store.pause(args[0], args.slice(1).join(' '), now);
      print(`paused ${args[0]}: its events wait in the outbox`);
      return 0;
    }
    case 'resume': {
      if (!args[0]) break;
      await store.resume(args[0]);
      print(`resumed ${args[0]}`);
      return 0;
    }
  }
  print(USAGE);
  return 2;
}

if (require.main === module) {
  const config = readConfig();
  const db = openDatabase(config.databaseUrl);
  migrate(db, outboxMigrations)
    .then(() =>
      runOutboxCommand(process.argv.slice(2), {
        store: openOutboxStore(db),
        retentionMs: config.relay.retentionHours * 3_600_000,
        print: (line) => console.log(line),
      }),
    )
    .then(
      async (code) => {
        await db.close();
        process.exit(code);
      },
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
}
