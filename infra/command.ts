/**
 * How an entry point that needs servers ends when they are not there: one line naming what could
 * not be reached and what to run, never a stack trace. Anything else is a bug and keeps its stack.
 */
const UNREACHABLE = [
  /ECONNREFUSED|EHOSTUNREACH|ENOTFOUND|ETIMEDOUT/,
  /tcp connect error|TransportError|Connection refused/i,
  /KafkaJSConnectionError|KafkaJSNumberOfRetriesExceeded|Connection error: connect/,
  /not ready after \d+ ms/,
  /Failed to connect before the deadline/i,
];

/** The first line of a connection failure, or undefined when the error is something else. */
export function unreachable(err: unknown): string | undefined {
  const cause = err instanceof Error && err.cause instanceof Error ? `${err.cause.name}: ${err.cause.message}` : '';
  const text = err instanceof Error ? `${err.name}: ${err.message} ${cause}` : String(err);
  if (!UNREACHABLE.some((re) => re.test(text))) return undefined;
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

export const WHAT_TO_RUN =
  'start the stack with `npm run stack` (or `npm start`), or point TEMPORAL_ADDRESS / KAFKA_BROKERS / POSTGRES_URL at running servers';

/** Runs `main` and exits with its code; a server that is not there is one line on stderr (exit 1). */
export function runCommand(name: string, main: () => Promise<number | void>): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (err: unknown) => {
      const reason = unreachable(err);
      if (reason !== undefined) {
        console.error(`${name}: a server is not reachable (${reason}); ${WHAT_TO_RUN}`);
        process.exit(1);
      }
      console.error(err);
      process.exit(1);
    },
  );
}
