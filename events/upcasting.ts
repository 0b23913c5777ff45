import type { Envelope } from './envelope';
import { newestVersion, type EventCatalog } from './definition';
import { UnreadableEvent } from './unreadable';

/**
 * An upcaster turns the data of version `n` into the data of version `n + 1`. It may derive a
 * default from the envelope (the event's time, its subject) but never from the outside world:
 * reading an old event twice must give the same result.
 */
export type Upcaster = (data: Record<string, unknown>, envelope: Envelope) => Record<string, unknown>;

/** event type → the version an upcaster starts from → the upcaster. */
export type Upcasters = Readonly<Record<string, Readonly<Record<number, Upcaster>>>>;

export interface ReadEvent {
  type: string;
  /** Always the newest version in the catalog: readers are written against one shape. */
  version: number;
  /** The version the producer wrote. */
  writtenVersion: number;
  data: unknown;
  envelope: Envelope;
}

/**
 * Validates the data against the schema of the version it was written in (unknown fields are
 * dropped, not rejected), then upcasts step by step, validating after each step.
 */
export function upcast(catalog: EventCatalog, upcasters: Upcasters, env: Envelope): ReadEvent {
  const def = catalog[env.type];
  if (!def) throw new UnreadableEvent('unknown-type', `no event type ${env.type} in the catalog`);
  const newest = newestVersion(def);
  let version = env.schemaversion;
  const first = def.versions[version];
  if (!first) {
    const why = version > newest ? `is newer than this reader knows (newest ${newest})` : 'is not in the catalog';
    throw new UnreadableEvent('unsupported-version', `${env.type} v${version} ${why}`);
  }
  let data = parseData(first, env.type, version, env.data);
  while (version < newest) {
    const step = upcasters[env.type]?.[version];
    if (!step) throw new UnreadableEvent('unsupported-version', `no upcaster from ${env.type} v${version} to v${version + 1}`);
    const next = runUpcaster(step, data, env, version);
    version += 1;
    data = parseData(def.versions[version] as NonNullable<typeof first>, env.type, version, next);
  }
  return { type: env.type, version, writtenVersion: env.schemaversion, data, envelope: env };
}

/**
 * An upcaster is a pure function of the message, so whatever it throws it throws again on every
 * redelivery: it is a poison reason, never a retry (the consumer would crash-loop on it). The
 * detail names the step and the error, never the data.
 */
function runUpcaster(step: Upcaster, data: unknown, env: Envelope, version: number): Record<string, unknown> {
  try {
    return step(data as Record<string, unknown>, env);
  } catch (err) {
    if (err instanceof UnreadableEvent) throw err;
    const why = err instanceof Error ? `${err.name}: ${err.message}` : `threw ${typeof err}`;
    throw new UnreadableEvent('upcaster-failed', `${env.type} v${version} → v${version + 1}: ${why.slice(0, 300)}`);
  }
}

function parseData(
  schema: NonNullable<EventCatalog[string]>['versions'][number],
  type: string,
  version: number,
  data: unknown,
): unknown {
  let parsed: ReturnType<typeof schema.safeParse>;
  try {
    parsed = schema.safeParse(data);
  } catch (err) {
    // A refinement that throws instead of reporting an issue: as deterministic as an issue.
    throw new UnreadableEvent('invalid-data', `${type} v${version}: the schema threw ${(err as Error).name}`);
  }
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`).join('; ');
  throw new UnreadableEvent('invalid-data', `${type} v${version}: ${issues}`);
}
