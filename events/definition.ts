import type { z } from 'zod';
import type { BoundedContext } from './envelope';

/**
 * The shape every catalog has: an event type belongs to one bounded context (so one topic) and
 * has one zod schema per version of its `data`. The tooling (JSON Schema, docs, compatibility,
 * upcasting, consumer contracts) is written against this shape, not against the domain catalog.
 */
export interface EventDefinition {
  context: BoundedContext;
  description?: string;
  versions: Readonly<Record<number, z.ZodType>>;
}

export type EventCatalog = Readonly<Record<string, EventDefinition>>;

export function versionsOf(def: EventDefinition): number[] {
  return Object.keys(def.versions)
    .map(Number)
    .sort((a, b) => a - b);
}

export function newestVersion(def: EventDefinition): number {
  const versions = versionsOf(def);
  const newest = versions[versions.length - 1];
  if (newest === undefined) throw new Error('an event definition needs at least one version');
  return newest;
}

export function schemaOf(catalog: EventCatalog, type: string, version: number): z.ZodType | undefined {
  return catalog[type]?.versions[version];
}

/** `OrderConfirmed.v2`: how snapshots, examples and messages name one version of one event. */
export const versionKey = (type: string, version: number): string => `${type}.v${version}`;
