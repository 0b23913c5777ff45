import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { versionKey, versionsOf, type EventCatalog } from './definition';
import { wireSchema, type JsonSchema } from './json-schema';

/**
 * The committed record of every published schema, one file per event version. A snapshot only
 * changes through `npm run events:snapshot`, so a schema edit shows up as a compatibility check
 * against what readers were promised, and a reviewed diff when it is accepted.
 */
const fileName = /^(?<type>[A-Za-z0-9]+)\.v(?<version>\d+)\.json$/;

export function readSnapshots(dir: string): Map<string, JsonSchema> {
  const out = new Map<string, JsonSchema>();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    const m = fileName.exec(name);
    if (!m?.groups) continue;
    out.set(
      versionKey(m.groups.type as string, Number(m.groups.version)),
      JSON.parse(readFileSync(join(dir, name), 'utf8')) as JsonSchema,
    );
  }
  return out;
}

export const renderJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

export function currentSchemas(catalog: EventCatalog): Map<string, JsonSchema> {
  const out = new Map<string, JsonSchema>();
  for (const [type, def] of Object.entries(catalog)) {
    for (const v of versionsOf(def)) out.set(versionKey(type, v), wireSchema(def.versions[v] as z.ZodType));
  }
  return out;
}

/** Writes the snapshot of every version in the catalog; returns the keys whose file changed. */
export function writeSnapshots(dir: string, catalog: EventCatalog): string[] {
  mkdirSync(dir, { recursive: true });
  const changed: string[] = [];
  for (const [key, schema] of currentSchemas(catalog)) {
    const path = join(dir, `${key}.json`);
    const text = renderJson(schema);
    let old = '';
    try {
      old = readFileSync(path, 'utf8');
    } catch {
      // first publication of this version
    }
    if (old !== text) {
      writeFileSync(path, text);
      changed.push(key);
    }
  }
  return changed;
}
