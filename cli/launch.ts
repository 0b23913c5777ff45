import { DefaultLogger, Runtime } from '@temporalio/worker';

/**
 * The process side of `trapeze`: the Temporal runtime quiet (replay and gate run replay workers,
 * whose warnings are not the operator's business), then the exit code as the process's.
 */
export function launch(run: (argv: string[]) => Promise<number>): void {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
