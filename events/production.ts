import { versionsOf, type EventCatalog } from './definition';
import type { VersionStatus } from './compatibility';
import type { ConsumerContract } from './consumer-contracts';

/**
 * Readers upgrade first: producers may switch an event to version n+1 only in a release later
 * than the one in which every declared consumer learned n+1, because during a rollout (and for
 * a consumer that has not upgraded) readers of the previous release meet what the new producers
 * write, and a reader that does not know the version dead-letters every such event.
 *
 * Releases are `major.minor`, as in versioning/releases.ts and the package version.
 */
export type Release = string;

/** Per event type, the release in which producers began writing each version after the first. */
export type ProductionSwitches = Readonly<Record<string, Readonly<Record<number, Release>>>>;

export function compareReleases(a: Release, b: Release): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export const releaseOf = (packageVersion: string): Release => packageVersion.split('.').slice(0, 2).join('.');

/** Where each version stands: written now, written before, or not yet written by anyone. */
export function versionStatus(
  produced: Readonly<Record<string, number>> | undefined,
  switches: ProductionSwitches = {},
): (type: string, version: number) => VersionStatus {
  return (type, version) => {
    const now = produced?.[type];
    if (now === undefined || version === now) return 'produced';
    if (version < now) return 'retired';
    // Newer than what is produced now: written before only if production once switched to it (a rollback).
    const everWritten = Object.keys(switches[type] ?? {})
      .map(Number)
      .some((v) => v >= version);
    return everWritten ? 'retired' : 'upcoming';
  };
}

export interface ProductionUnderCheck {
  catalog: EventCatalog;
  contracts: readonly ConsumerContract[];
  produced: Readonly<Record<string, number>>;
  switches: ProductionSwitches;
  /** The release being built: no switch or lesson can be recorded for a later one. */
  currentRelease: Release;
}

export function checkProduction(input: ProductionUnderCheck): string[] {
  const { catalog, contracts, produced, switches, currentRelease } = input;
  const problems: string[] = [];
  const future = (release: Release) => compareReleases(release, currentRelease) > 0;
  for (const [type, version] of Object.entries(produced)) {
    const def = catalog[type];
    if (!def) continue; // reported as a producer problem by checkEvents
    const first = versionsOf(def)[0];
    if (version !== first && !switches[type]?.[version])
      problems.push(
        `${type}: producers write v${version}, but no release is recorded as switching production to it (productionSwitches in events/catalog)`,
      );
  }
  for (const [type, byVersion] of Object.entries(switches)) {
    for (const [v, switched] of Object.entries(byVersion)) {
      const version = Number(v);
      if (!catalog[type]?.versions[version]) {
        problems.push(`${type}: production switched to v${version} in ${switched}, which the catalog does not have`);
        continue;
      }
      if (future(switched))
        problems.push(`${type}: production switch to v${version} recorded for ${switched}, after this release ${currentRelease}`);
      for (const contract of contracts) {
        for (const read of contract.reads.filter((r) => r.type === type)) {
          const learned = read.learned[version];
          const started = Object.values(read.learned).sort(compareReleases)[0];
          const who = `consumer ${contract.consumer} reads ${type}`;
          // Never learned at all: reported below when producers write it now.
          if (learned !== undefined && compareReleases(learned, switched) >= 0 && learned !== started) {
            // A consumer that began reading the type in or after the switch never ran without the version.
            problems.push(
              `${who}: production switched to v${version} in ${switched}, not later than ${learned}, the release in which it learned v${version}; switch in a later release`,
            );
          }
        }
      }
    }
  }
  for (const contract of contracts) {
    for (const read of contract.reads) {
      for (const [v, learned] of Object.entries(read.learned)) {
        if (!catalog[read.type]?.versions[Number(v)])
          problems.push(`consumer ${contract.consumer} learned ${read.type} v${v}, which the catalog does not have`);
        if (future(learned))
          problems.push(
            `consumer ${contract.consumer} learned ${read.type} v${v} in ${learned}, after this release ${currentRelease}`,
          );
      }
      const now = produced[read.type];
      if (now !== undefined && read.learned[now] === undefined)
        problems.push(
          `consumer ${contract.consumer} reads ${read.type} but never learned v${now}, which producers write${switches[read.type]?.[now] ? ` since ${switches[read.type]?.[now]}` : ''}`,
        );
    }
  }
  return problems;
}
