import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { cacheDir, dataDir } from './paths';
import { launch, onPath, reused, run, terminate, waitUntilReady, type Service } from './supervise';

/**
 * 3.9 is the newest line whose brokers still accept every protocol version kafkajs 2.2.4 speaks:
 * Kafka 4.0 removed the old request versions (KIP-896) that kafkajs, unmaintained since 2023,
 * still sends for some calls. 3.9 also runs KRaft without ZooKeeper.
 */
export const KAFKA_VERSION = '3.9.1';

/** KAFKA_HOME (a distribution's libs/), then kafka-server-start.sh on the PATH, then the cached Maven install. */
export function kafkaClasspath(): string {
  const home = process.env.KAFKA_HOME ?? (onPath('kafka-server-start.sh') && dirname(dirname(onPath('kafka-server-start.sh')!)));
  if (home && existsSync(join(home, 'libs'))) return join(home, 'libs', '*');
  const libs = join(cacheDir, `kafka-${KAFKA_VERSION}`, 'libs');
  if (!existsSync(libs) || !readdirSync(libs).some((f) => f.startsWith(`kafka_2.13-${KAFKA_VERSION}`))) installFromMaven(libs);
  return join(libs, '*');
}

/** The broker and its runtime dependencies from Maven Central, copied into one folder. */
function installFromMaven(libs: string): void {
  const project = join(cacheDir, `kafka-${KAFKA_VERSION}`, 'maven');
  mkdirSync(project, { recursive: true });
  writeFileSync(
    join(project, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.trapeze</groupId><artifactId>kafka-broker</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
`,
  );
  console.log(`installing Kafka ${KAFKA_VERSION} from Maven Central into ${libs}`);
  run('mvn', ['-q', '-B', 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${libs}`], {
    cwd: project,
    stdio: 'inherit',
  });
}

function java(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

export interface BrokerOptions {
  /** Client port on 127.0.0.1; the KRaft controller listens on port + 1. */
  port?: number;
  /** Storage and config folder; formatted on first start. */
  dir?: string;
  name?: string;
}

function serverProperties(port: number, dir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${port + 1}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${port + 1}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${join(dir, 'logs')}`,
    // One broker: the internal topics must fit on it, or consumer groups never find a coordinator.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'num.partitions=3',
    'auto.create.topics.enable=true',
    'log.retention.hours=168',
    '',
  ].join('\n');
}

const log4j = `log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
`;

export async function brokerAnswers(brokers: string[]): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'trapeze-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } finally {
    await admin.disconnect();
  }
}

/**
 * A KRaft cluster id: 16 random bytes in base64url, redrawn when it would begin with '-' as Kafka's
 * own Uuid.randomUuid does, because the storage tool's argument parser reads such an id as an option
 * (1 start in 64 failed that way).
 */
export function clusterId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Starts one KRaft broker (formatting its storage on first start) and waits for a metadata answer. */
export async function startBroker({
  port = 9092,
  dir = join(dataDir, 'kafka'),
  name = 'kafka',
}: BrokerOptions = {}): Promise<Service> {
  const address = `127.0.0.1:${port}`;
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'server.properties');
  writeFileSync(config, serverProperties(port, dir));
  writeFileSync(join(dir, 'log4j.properties'), log4j);
  const classpath = kafkaClasspath();
  const jvm = [`-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`, '-cp', classpath];
  if (!existsSync(join(dir, 'logs', 'meta.properties'))) {
    run(java(), [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', config]);
  }
  const child = launch(name, java(), ['-Xms256m', '-Xmx768m', '-XX:+UseG1GC', ...jvm, 'kafka.Kafka', config]);
  await waitUntilReady(name, () => brokerAnswers([address]), { child });
  return { name, address, started: true, ...(child.pid ? { pid: child.pid } : {}), stop: () => terminate(child, 30_000) };
}

/** KAFKA_BROKERS means "use those, start none"; a broker already answering on the port is reused. */
export async function ensureKafka(options: BrokerOptions = {}): Promise<Service> {
  const explicit = process.env.KAFKA_BROKERS;
  if (explicit) {
    await waitUntilReady('kafka', () => brokerAnswers(explicit.split(',')), { timeoutMs: 30_000 });
    return reused('kafka', explicit);
  }
  const address = `127.0.0.1:${options.port ?? 9092}`;
  if (await brokerAnswers([address]).catch(() => false)) return reused('kafka', address);
  return startBroker(options);
}
