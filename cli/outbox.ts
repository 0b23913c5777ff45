import type { Command } from 'commander';
import { openOutboxStore, type OutboxStore } from '../outbox/store';
import { migrate, outboxMigrations } from '../platform/migrations';
import { act, CliError, EXIT, type Context } from './context';

/**
 * `trapeze outbox …` (DATABASE_URL): what holds publication back, the rows Kafka can never take,
 * and the per-topic kill switch. Never prints event data (it may hold personal data): ids, keys
 * (order ids), types and sizes only.
 */
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function outboxCommands(program: Command, ctx: Context): void {
  const outbox = program.command('outbox').description('the transactional outbox: backlog, dead letters, per-topic pause');
  const store = async (): Promise<OutboxStore> => {
    const db = ctx.database(ctx.config.databaseUrl);
    await migrate(db, outboxMigrations);
    return openOutboxStore(db);
  };

  outbox
    .command('status')
    .description('backlog, lag, dead letters, paused topics, the oldest blocking transaction (PostgreSQL)')
    .action(
      act(ctx, async () => {
        const s = await store();
        const now = Date.now();
        const [backlog, oldest, paused, letters, blocking, prunable] = await Promise.all([
          s.backlog(),
          s.oldestUnsentAgeMs(now),
          s.paused(),
          s.deadLetterCounts(),
          s.oldestBlockingTransaction(),
          s.prunePending(now - ctx.config.relay.retentionHours * 3_600_000),
        ]);
        ctx.emit(
          {
            backlog,
            oldestUnsentMs: oldest,
            deadLetters: letters,
            paused,
            ...(s.dialect === 'postgres' ? { oldestBlockingTransaction: blocking ?? null } : {}),
            prunable,
          },
          () => [
            `backlog: ${backlog} unsent row(s); oldest unsent ${seconds(oldest)} old`,
            `dead letters: ${letters.parked} parked, ${letters.waiting} row(s) waiting behind them`,
            `paused topics: ${paused.map((p) => `${p.topic} (${p.reason})`).join(', ') || 'none'}`,
            ...(s.dialect === 'postgres'
              ? [
                  blocking
                    ? `oldest blocking transaction: ${seconds(blocking.ageMs)}, ${blocking.state}` +
                      `${blocking.pid ? `, pid ${blocking.pid}` : ''}${blocking.application ? `, ${blocking.application}` : ''}` +
                      `${blocking.database ? `, database ${blocking.database}` : ''} (rows written after it began wait for it)`
                    : 'oldest blocking transaction: none',
                ]
              : []),
            `sent rows past the retention, not yet pruned: ${prunable}`,
          ],
        );
      }),
    );

  outbox
    .command('dead-letters')
    .description('rows parked because Kafka can never take them, with the reason and what waits behind them')
    .action(
      act(ctx, async () => {
        const letters = await (await store()).deadLetters();
        ctx.emit({ deadLetters: letters }, () => [
          ...letters.map(
            (l) =>
              `${String(l.seq).padStart(8)}  ${l.id}  ${l.topic}  ${l.msgKey}  ${l.type}  ${l.bytes} B  ` +
              `attempts ${l.attempts}  ${l.waiting} waiting  parked ${new Date(l.parkedAt).toISOString()}  ${l.reason}`,
          ),
          `${letters.length} dead letter(s)`,
        ]);
      }),
    );

  outbox
    .command('redrive')
    .description('puts a parked row back in line, after fixing its cause (exit 4: no such parked row)')
    .argument('<eventIdOrSeq>')
    .action(
      act(ctx, async (id: string) => {
        if (!(await (await store()).redrive(id))) throw new CliError(`no parked row ${id}`, EXIT.notFound);
        ctx.emit({ redriven: id }, () => [`re-driven ${id}: it goes out next, its key's later events after it`]);
      }),
    );

  outbox
    .command('pause')
    .description('the per-topic kill switch: events wait in the outbox, sagas run on')
    .argument('<topic>')
    .argument('<reason...>')
    .action(
      act(ctx, async (topic: string, reason: string[]) => {
        await (await store()).pause(topic, reason.join(' '), Date.now());
        ctx.emit({ paused: topic, reason: reason.join(' ') }, () => [`paused ${topic}: its events wait in the outbox`]);
      }),
    );

  outbox
    .command('resume')
    .description('publishes a paused topic again, its waiting events first')
    .argument('<topic>')
    .action(
      act(ctx, async (topic: string) => {
        await (await store()).resume(topic);
        ctx.emit({ resumed: topic }, () => [`resumed ${topic}`]);
      }),
    );
}
