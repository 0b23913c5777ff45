import { Envelope } from './envelope';
import { newestVersion, versionKey, versionsOf, type EventCatalog } from './definition';
import { breaksAnyone, compareSchemas, describeBreach, type Breach, type VersionStatus } from './compatibility';
import { checkContracts, describeViolation, type ConsumerContract } from './consumer-contracts';
import type { StoredExample } from './examples';
import type { JsonSchema } from './json-schema';
import { checkProduction, versionStatus, type ProductionSwitches, type Release } from './production';
import { currentSchemas } from './snapshots';
import { upcast, type Upcasters } from './upcasting';

/**
 * The contract check that CI runs: current schemas against their published snapshots, the
 * upcaster chain of every event, the stored examples, and every consumer's declared reads.
 */
export type ProblemKind = 'breach' | 'unpublished' | 'withdrawn' | 'upcaster' | 'example' | 'contract' | 'produced';

export interface Problem {
  kind: ProblemKind;
  message: string;
  breach?: Breach;
}

export interface EventsUnderCheck {
  catalog: EventCatalog;
  upcasters: Upcasters;
  contracts: readonly ConsumerContract[];
  snapshots: ReadonlyMap<string, JsonSchema>;
  examples: readonly StoredExample[];
  /** The version producers write, per type; it must be a published version of the catalog. */
  produced?: Readonly<Record<string, number>>;
  /** When production switched to each later version, and the release being built (events/production.ts). */
  production?: { switches: ProductionSwitches; currentRelease: Release };
}

export function checkEvents(input: EventsUnderCheck): Problem[] {
  return [
    ...Object.entries(input.produced ?? {})
      .filter(([type, v]) => !input.catalog[type]?.versions[v])
      .map(([type, v]) => ({
        kind: 'produced' as const,
        message: `${type}: producers write v${v}, which the catalog does not have`,
      })),
    ...(input.produced && input.production
      ? checkProduction({
          catalog: input.catalog,
          contracts: input.contracts,
          produced: input.produced,
          ...input.production,
        }).map((message) => ({ kind: 'produced' as const, message }))
      : []),
    ...checkSnapshots(input.catalog, input.snapshots, versionStatus(input.produced, input.production?.switches)),
    ...checkUpcasters(input.catalog, input.upcasters),
    ...checkExamples(input),
    ...checkContracts(input.catalog, input.contracts).map((v) => ({ kind: 'contract' as const, message: describeViolation(v) })),
  ];
}

/**
 * Every published version against its snapshot. A breach counts where it breaks someone: a change
 * that only breaks readers is allowed on a version nobody writes any more, one that only breaks
 * writers on a version nobody has written yet (`status`; without it every version is produced).
 */
export function checkSnapshots(
  catalog: EventCatalog,
  snapshots: ReadonlyMap<string, JsonSchema>,
  status: (type: string, version: number) => VersionStatus = () => 'produced',
): Problem[] {
  const problems: Problem[] = [];
  const current = currentSchemas(catalog);
  for (const [type, def] of Object.entries(catalog)) {
    for (const v of versionsOf(def)) {
      const key = versionKey(type, v);
      const published = snapshots.get(key);
      if (!published) {
        problems.push({
          kind: 'unpublished',
          message: `${type} v${v}: no snapshot in events/snapshots; publish it with npm run events:snapshot`,
        });
        continue;
      }
      const breaches = compareSchemas(type, v, published, current.get(key) as JsonSchema).filter((b) =>
        breaksAnyone(b.rule, status(type, v)),
      );
      for (const breach of breaches) {
        problems.push({ kind: 'breach', message: `${describeBreach(breach)}; a change of meaning needs a new version`, breach });
      }
    }
  }
  for (const key of snapshots.keys()) {
    if (!current.has(key))
      problems.push({
        kind: 'withdrawn',
        message: `${key}: published, but gone from the catalog; stored events of it could no longer be read`,
      });
  }
  return problems;
}

function checkUpcasters(catalog: EventCatalog, upcasters: Upcasters): Problem[] {
  const problems: Problem[] = [];
  for (const [type, def] of Object.entries(catalog)) {
    const newest = newestVersion(def);
    for (const v of versionsOf(def).filter((x) => x < newest)) {
      if (!upcasters[type]?.[v])
        problems.push({ kind: 'upcaster', message: `${type} v${v}: no upcaster to v${v + 1}; readers could not read it` });
    }
  }
  for (const [type, steps] of Object.entries(upcasters)) {
    for (const from of Object.keys(steps).map(Number)) {
      const def = catalog[type];
      if (!def?.versions[from] || !def.versions[from + 1])
        problems.push({
          kind: 'upcaster',
          message: `${type} v${from}: an upcaster exists but the catalog has no v${from} → v${from + 1}`,
        });
    }
  }
  return problems;
}

function checkExamples({ catalog, upcasters, examples }: EventsUnderCheck): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set(examples.map((e) => versionKey(e.type, e.version)));
  for (const [type, def] of Object.entries(catalog)) {
    for (const v of versionsOf(def)) {
      if (!seen.has(versionKey(type, v)))
        problems.push({
          kind: 'example',
          message: `${type} v${v}: no stored example in events/examples/${versionKey(type, v)}.json`,
        });
    }
  }
  for (const example of examples) {
    const env = Envelope.safeParse(example.envelope);
    if (!env.success) {
      problems.push({
        kind: 'example',
        message: `${example.file}: not a valid envelope: ${env.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      });
      continue;
    }
    if (env.data.type !== example.type || env.data.schemaversion !== example.version) {
      problems.push({ kind: 'example', message: `${example.file}: holds ${env.data.type} v${env.data.schemaversion}` });
      continue;
    }
    try {
      upcast(catalog, upcasters, env.data);
    } catch (err) {
      problems.push({
        kind: 'example',
        message: `${example.file}: cannot be read as the newest version: ${(err as Error).message}`,
      });
    }
  }
  return problems;
}
