import { ensureKafka } from './kafka';
import { ensurePostgres } from './postgres';
import type { Service } from './supervise';
import { ensureTemporal, namespace, timeSkippingServer } from './temporal';

export interface Stack {
  temporal: Service & { uiUrl?: string };
  kafka: Service;
  postgres?: Service;
  /** What a worker or test process needs to find the stack. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Temporal and Kafka always; PostgreSQL only where asked (the embedded default stores in SQLite). */
export async function startStack({ postgres = false }: { postgres?: boolean } = {}): Promise<Stack> {
  const started: Service[] = [];
  const track = async <S extends Service>(p: Promise<S>): Promise<S> => {
    const service = await p;
    started.push(service);
    return service;
  };
  const stop = async () => {
    await Promise.all(started.reverse().map((s) => s.stop()));
  };
  try {
    const [temporal, kafka, pg] = await Promise.all([
      track(ensureTemporal()),
      track(ensureKafka()),
      postgres ? track(ensurePostgres()) : Promise.resolve(undefined),
    ]);
    const env: Record<string, string> = {
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: namespace(),
      TEMPORAL_TEST_SERVER_PATH: timeSkippingServer(),
      KAFKA_BROKERS: kafka.address,
      ...(pg ? { POSTGRES_URL: pg.address } : {}),
    };
    return { temporal, kafka, postgres: pg, env, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export function describeStack(stack: Stack): string {
  const line = (s: Service, extra = '') =>
    `  ${s.name.padEnd(9)} ${s.address}${extra} (${s.started ? 'started' : 'already running, reused'})`;
  return [
    line(stack.temporal, `, UI ${stack.temporal.uiUrl ?? 'unknown (set TEMPORAL_UI_URL)'}`),
    line(stack.kafka),
    ...(stack.postgres ? [line(stack.postgres)] : []),
  ].join('\n');
}

/** Stops what was started on Ctrl-C or SIGTERM, once. */
export function stopOnSignal(stop: () => Promise<void>, say: (text: string) => void = (t) => console.log(t)): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

async function main(): Promise<void> {
  const began = Date.now();
  const stack = await startStack({ postgres: process.argv.includes('--postgres') });
  console.log(`stack ready in ${((Date.now() - began) / 1000).toFixed(1)} s:\n${describeStack(stack)}`);
  if (process.argv.includes('--exit')) return stack.stop();
  stopOnSignal(() => stack.stop());
  console.log('Ctrl-C stops it.');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
