import { Command, CommanderError } from 'commander';
import { buildIdCommand } from './build-id';
import { canaryCommand } from './canary';
import { captureCommand } from './capture';
import { createContext, EXIT, EXIT_TABLE, failure, type Io, type Overrides } from './context';
import { deadLetterCommands } from './dead-letters';
import { eventCommands } from './events';
import { gateCommand } from './gate';
import { notificationCommands } from './notifications';
import { orderViewCommands } from './order-view';
import { outboxCommands } from './outbox';
import { reconcileCommands } from './reconcile';
import { replayCommand } from './replay';
import { rolloutCommands } from './rollout';
import { sagaCommands } from './saga';

/**
 * `npx trapeze <noun> <verb>`: the one operator command. Each noun lives in its own module; this
 * root wires them, owns the exit-code table and turns every failure into one line and a code.
 */
const stdio: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  tty: Boolean(process.stderr.isTTY),
};

/** Runs one command line (without `node trapeze`) and returns its exit code; tests call it in-process. */
export async function runTrapeze(argv: string[], overrides: Overrides & { io?: Io } = {}): Promise<number> {
  const io = overrides.io ?? stdio;
  const ctx = createContext(io, overrides);
  const program = new Command('trapeze')
    .description('operate Trapeze: sagas, outbox, notifications, deployments, reconciliation, event contracts')
    .option('--json', 'machine-readable output on stdout (errors as {"error","exitCode"})')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `\n${EXIT_TABLE}\n\nServers: TEMPORAL_ADDRESS, KAFKA_BROKERS, DATABASE_URL (see README, Configuration).`,
    )
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
    })
    .exitOverride();
  for (const add of [
    sagaCommands,
    outboxCommands,
    deadLetterCommands,
    notificationCommands,
    orderViewCommands,
    rolloutCommands,
    canaryCommand,
    replayCommand,
    captureCommand,
    gateCommand,
    reconcileCommands,
    eventCommands,
    buildIdCommand,
  ])
    add(program, ctx);
  // Every level: the same output, the same exit override, help on a bare noun.
  const configure = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.exitOverride().configureOutput({
        writeOut: (s) => io.out(s.replace(/\n$/, '')),
        writeErr: (s) => io.err(s.replace(/\n$/, '')),
      });
      sub.showHelpAfterError('(add --help for usage)');
      configure(sub);
    }
  };
  configure(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are answers; a bare noun (help shown) and every parse error are usage.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    const f = failure(err, ctx.config.databaseUrl);
    if (f.message) {
      if (ctx.json) io.out(JSON.stringify({ error: f.message, exitCode: f.exitCode }));
      else io.err(f.message);
    }
    return f.exitCode;
  } finally {
    await ctx.close();
  }
}

if (require.main === module) {
  void import('./launch').then(({ launch }) => launch(runTrapeze));
}
