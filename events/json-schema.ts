import { z } from 'zod';
import { topicFor } from './envelope';
import { versionKey, versionsOf, type EventCatalog } from './definition';

/** The subset of JSON Schema that zod emits and the compatibility checker reads. */
export interface JsonSchema {
  $schema?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  description?: string;
  default?: unknown;
  [key: string]: unknown;
}

/**
 * The schema of what travels on the wire: zod's *input* side, so defaults are not required and
 * unknown properties stay allowed (readers tolerate fields added after them).
 */
export function wireSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
}

/** The whole catalog as one JSON Schema document: each event version is a `$defs` entry. */
export function catalogJsonSchema(catalog: EventCatalog): JsonSchema {
  const defs: Record<string, JsonSchema> = {};
  const events: Record<string, unknown> = {};
  for (const [type, def] of Object.entries(catalog).sort(([a], [b]) => a.localeCompare(b))) {
    const versions = versionsOf(def);
    events[type] = { context: def.context, topic: topicFor(def.context), versions, newest: versions[versions.length - 1] };
    for (const v of versions) {
      const { $schema: _ignored, ...body } = wireSchema(def.versions[v] as z.ZodType);
      defs[versionKey(type, v)] = {
        title: `${type} v${v}`,
        ...(def.description ? { description: def.description } : {}),
        ...body,
      };
    }
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://trapeze.dev/events/catalog.schema.json',
    title: 'Trapeze event catalog: the `data` of each event type and version',
    'x-events': events,
    $defs: defs,
  };
}
