import { createHash } from 'node:crypto';
import { z } from 'zod';
import { topicFor } from './envelope';
import { versionKey, versionsOf, type EventCatalog } from './definition';

/** The keyword under which a wire schema records what JSON Schema cannot express (`hiddenBehaviour`). */
export const HIDDEN = 'x-not-in-schema';

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
  return z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
    override: ({ zodSchema, jsonSchema }) => {
      const hidden = hiddenBehaviour(zodSchema as unknown as z.ZodType);
      if (hidden) jsonSchema[HIDDEN] = hidden;
    },
  }) as JsonSchema;
}

/**
 * What a schema does that its input JSON Schema cannot show: transforms, pipes, coercion,
 * `catch`, refinements and overwrites. Readers get the parsed output, so a change there changes
 * what every stored event means although the wire schema stays the same; each is named with a
 * fingerprint of its function's source (or of the output schema), so the snapshot records it.
 */
function hiddenBehaviour(schema: z.ZodType): string | undefined {
  const def = schema._zod.def as unknown as Record<string, unknown> & {
    type: string;
    checks?: Array<{ _zod: { def: Record<string, unknown> } }>;
  };
  const parts: string[] = [];
  const source = (fn: unknown) => (typeof fn === 'function' ? fn.toString().replace(/\s+/g, ' ') : String(fn));
  if (def.type === 'pipe') {
    const out = def.out as z.ZodType;
    const outDef = out._zod.def as unknown as Record<string, unknown>;
    parts.push(
      outDef.type === 'transform'
        ? `transform ${fingerprint(source(outDef.transform))}`
        : `pipe ${fingerprint(JSON.stringify(z.toJSONSchema(out, { io: 'output', unrepresentable: 'any' })) + (hiddenBehaviour(out) ?? ''))}`,
    );
  }
  if (def.type === 'transform') parts.push(`transform ${fingerprint(source(def.transform))}`);
  if (def.type === 'catch') parts.push(`catch ${fingerprint(source(def.catchValue))}`);
  if (def.coerce === true) parts.push('coerce');
  for (const check of def.checks ?? []) {
    const c = check._zod.def;
    if (c.check === 'custom') parts.push(`refine ${fingerprint(source(c.fn))}`);
    if (c.check === 'overwrite') parts.push(`overwrite ${fingerprint(source(c.tx))}`);
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}

const fingerprint = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

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
