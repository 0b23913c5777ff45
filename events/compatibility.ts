// Over 250 lines on purpose: the compatibility rules side by side, so a reader sees which break readers, writers or both.
import { HIDDEN, type JsonSchema } from './json-schema';

/**
 * Compatibility of one published event version with its edited schema. Within a version two
 * parties can be out of step with the edit: readers that have not upgraded still validate what
 * upgraded writers now write against `before`, and upgraded readers validate what was written
 * before (stored events, writers not yet upgraded) against `after`. So each rule says whom the
 * change breaks:
 *
 * - `readers`: `after` accepts what `before` rejects (a wider enum, a looser bound, an optional
 *   field): a reader that has not upgraded dead-letters the new values. Harmless only where
 *   nothing writes the version any more (a retired version).
 * - `writers`: `after` rejects what `before` accepted (a narrower enum, a tighter bound, a new
 *   required field): events already written, or written by writers not yet upgraded, no longer
 *   read. Harmless only where no event of the version was ever written (an upcoming version).
 * - `both`: the meaning or the shape changed in a way neither side can absorb.
 *
 * Additive optional fields on a tolerant object break nobody: readers drop fields they do not
 * know, and old events simply lack the field.
 */
export type BreachRule =
  | 'removed-field'
  | 'changed-type'
  | 'new-required-field'
  | 'made-optional'
  | 'narrowed-enum'
  | 'widened-enum'
  | 'narrowed-bound'
  | 'widened-bound'
  | 'changed-pattern'
  | 'changed-format'
  | 'changed-tuple'
  | 'strict-object-field'
  | 'changed-strictness'
  | 'changed-default'
  | 'output-only-change';

export type Breaks = 'readers' | 'writers' | 'both';

export const rules: Record<BreachRule, { text: string; breaks: Breaks }> = {
  'removed-field': { text: 'removed or renamed field', breaks: 'both' },
  'changed-type': { text: 'changed type', breaks: 'both' },
  'new-required-field': { text: 'new required field', breaks: 'writers' },
  'made-optional': { text: 'required field made optional', breaks: 'readers' },
  'narrowed-enum': { text: 'narrowed enum', breaks: 'writers' },
  'widened-enum': { text: 'widened enum', breaks: 'readers' },
  'narrowed-bound': { text: 'narrowed bound', breaks: 'writers' },
  'widened-bound': { text: 'widened bound', breaks: 'readers' },
  'changed-pattern': { text: 'changed pattern', breaks: 'both' },
  'changed-format': { text: 'changed format', breaks: 'both' },
  'changed-tuple': { text: 'changed tuple', breaks: 'both' },
  'strict-object-field': { text: 'field added to a strict object', breaks: 'readers' },
  'changed-strictness': { text: 'changed strictness', breaks: 'both' },
  'changed-default': { text: 'changed default', breaks: 'both' },
  'output-only-change': { text: 'change invisible to the wire schema', breaks: 'both' },
};

/**
 * Where a version stands: `produced` (producers write it now), `retired` (written before, not
 * now), `upcoming` (readers know it, nobody has written it yet).
 */
export type VersionStatus = 'produced' | 'retired' | 'upcoming';

/** Whether a breach of this rule breaks anyone, given where the version stands. */
export function breaksAnyone(rule: BreachRule, status: VersionStatus): boolean {
  const { breaks } = rules[rule];
  if (breaks === 'both' || status === 'produced') return true;
  return breaks === 'readers' ? status === 'upcoming' : status === 'retired';
}

export interface Breach {
  event: string;
  version: number;
  field: string;
  rule: BreachRule;
  detail: string;
}

export function describeBreach(b: Breach): string {
  return `${b.event} v${b.version}: field "${b.field}": ${rules[b.rule].text} (${b.detail}; breaks ${rules[b.rule].breaks})`;
}

export function compareSchemas(event: string, version: number, before: JsonSchema, after: JsonSchema): Breach[] {
  const breaches: Breach[] = [];
  const breach = (field: string, rule: BreachRule, detail: string) => breaches.push({ event, version, field, rule, detail });
  walk(before, after, '', breach);
  return breaches;
}

type Report = (field: string, rule: BreachRule, detail: string) => void;

function walk(before: JsonSchema, after: JsonSchema, path: string, breach: Report): void {
  const field = path || '(data)';
  const b = unwrapNullable(before);
  const a = unwrapNullable(after);
  const bTypes = typesOf(b.schema, b.nullable);
  const aTypes = typesOf(a.schema, a.nullable);
  if (bTypes !== aTypes && !enumToType(b.schema, a.schema)) {
    breach(field, 'changed-type', `was ${bTypes}, now ${aTypes}`);
    return; // below a changed type every further difference is noise
  }
  compareHidden(before, after, field, breach);
  compareDefaults(before, after, field, breach);
  compareStrings(b.schema, a.schema, field, breach);
  compareEnums(b.schema, a.schema, field, breach);
  compareUnions(b.schema, a.schema, field, breach);
  compareBounds(b.schema, a.schema, field, breach);

  if (b.schema.properties || a.schema.properties) compareObjects(b.schema, a.schema, path, breach);
  compareRecords(b.schema, a.schema, path, breach);
  if (b.schema.prefixItems || a.schema.prefixItems) compareTuples(b.schema, a.schema, path, breach);
  else if (isSchema(b.schema.items) && isSchema(a.schema.items)) walk(b.schema.items, a.schema.items, `${path}[]`, breach);
}

function compareObjects(before: JsonSchema, after: JsonSchema, path: string, breach: Report): void {
  const bProps = before.properties ?? {};
  const aProps = after.properties ?? {};
  const bRequired = new Set(before.required ?? []);
  const aRequired = new Set(after.required ?? []);
  const join = (name: string) => (path ? `${path}.${name}` : name);
  const added = Object.keys(aProps).filter((name) => !(name in bProps));
  const renameTargets = new Set<string>();

  for (const [name, bProp] of Object.entries(bProps)) {
    const aProp = aProps[name];
    if (!aProp) {
      const sameShape = added.filter((n) => signature(aProps[n] as JsonSchema) === signature(bProp));
      sameShape.forEach((n) => renameTargets.add(n));
      const hint = sameShape.length > 0 ? `renamed to "${sameShape.join('" or "')}"?` : 'no longer in the schema';
      breach(join(name), 'removed-field', hint);
      continue;
    }
    if (bRequired.has(name) && !aRequired.has(name)) breach(join(name), 'made-optional', 'readers rely on it being present');
    if (!bRequired.has(name) && aRequired.has(name))
      breach(join(name), 'new-required-field', 'was optional, now required: stored events may lack it');
    walk(bProp, aProp, join(name), breach);
  }
  const wasStrict = before.additionalProperties === false;
  for (const name of added) {
    // A rename is reported once, as the removal of the old name.
    if (renameTargets.has(name)) continue;
    if (aRequired.has(name))
      breach(join(name), 'new-required-field', 'events written before it lack it; add it as optional or publish a new version');
    else if (wasStrict)
      breach(join(name), 'strict-object-field', 'readers that have not upgraded refuse unknown fields in a strict object');
  }
  const isStrict = after.additionalProperties === false;
  if (wasStrict !== isStrict)
    breach(
      path || '(data)',
      'changed-strictness',
      wasStrict ? 'was strict, now accepts unknown fields' : 'now refuses unknown fields events may carry',
    );
}

/** `z.record(K, V)`: the value schema is `additionalProperties`, the key schema `propertyNames`. */
function compareRecords(before: JsonSchema, after: JsonSchema, path: string, breach: Report): void {
  const bValues = before.additionalProperties;
  const aValues = after.additionalProperties;
  if (isSchema(bValues) && isSchema(aValues)) walk(bValues, aValues, `${path}{}`, breach);
  else if (isSchema(bValues) !== isSchema(aValues) && (isSchema(bValues) || isSchema(aValues)) && !before.properties)
    breach(path || '(data)', 'changed-type', 'a record became an object or the other way round');
  const bKeys = before.propertyNames as JsonSchema | undefined;
  const aKeys = after.propertyNames as JsonSchema | undefined;
  if (bKeys && aKeys) walk(bKeys, aKeys, `${path}{key}`, breach);
}

function compareTuples(before: JsonSchema, after: JsonSchema, path: string, breach: Report): void {
  const bItems = (before.prefixItems as JsonSchema[] | undefined) ?? [];
  const aItems = (after.prefixItems as JsonSchema[] | undefined) ?? [];
  const field = path || '(data)';
  if (bItems.length !== aItems.length || !before.prefixItems || !after.prefixItems) {
    breach(field, 'changed-tuple', `had ${bItems.length} positions, now ${aItems.length}`);
    return;
  }
  bItems.forEach((b, i) => walk(b, aItems[i] as JsonSchema, `${path}[${i}]`, breach));
  const bRest = before.items;
  const aRest = after.items;
  if (isSchema(bRest) && isSchema(aRest)) walk(bRest, aRest, `${path}[…]`, breach);
  else if (JSON.stringify(bRest ?? null) !== JSON.stringify(aRest ?? null))
    breach(field, 'changed-tuple', isSchema(aRest) ? 'now takes further items' : 'no longer takes further items');
}

function compareEnums(before: JsonSchema, after: JsonSchema, field: string, breach: Report): void {
  const bValues = allowedValues(before);
  const aValues = allowedValues(after);
  if (!aValues && !bValues) return;
  if (!aValues) {
    breach(field, 'widened-enum', `was only ${list(bValues ?? [])}, now any ${typesOf(after, false)}`);
    return;
  }
  if (!bValues) {
    breach(field, 'narrowed-enum', `any value was allowed, now only ${list(aValues)}`);
    return;
  }
  const has = (values: unknown[], v: unknown) => values.some((x) => JSON.stringify(x) === JSON.stringify(v));
  const removed = bValues.filter((v) => !has(aValues, v));
  const added = aValues.filter((v) => !has(bValues, v));
  if (removed.length > 0) breach(field, 'narrowed-enum', `no longer allows ${list(removed)}`);
  if (added.length > 0) breach(field, 'widened-enum', `now allows ${list(added)}, which readers that have not upgraded refuse`);
}

function compareUnions(before: JsonSchema, after: JsonSchema, field: string, breach: Report): void {
  const bUnion = before.anyOf ?? before.oneOf;
  const aUnion = after.anyOf ?? after.oneOf;
  if (!bUnion && !aUnion) return;
  if (signature(before) !== signature(after)) breach(field, 'changed-type', 'the alternatives of a union changed');
}

/** A string's format and pattern. zod writes date-time options (offset, local, precision) into the pattern. */
function compareStrings(before: JsonSchema, after: JsonSchema, field: string, breach: Report): void {
  const bFormat = before.format ?? 'none';
  const aFormat = after.format ?? 'none';
  const bPattern = before.pattern as string | undefined;
  const aPattern = after.pattern as string | undefined;
  if (bFormat !== aFormat) {
    breach(field, 'changed-format', `format was ${bFormat}, now ${aFormat}${probeDetail(bPattern, aPattern)}`);
    return;
  }
  if (bPattern === aPattern) return;
  if (bFormat !== 'none') breach(field, 'changed-format', `the ${bFormat} pattern changed${probeDetail(bPattern, aPattern)}`);
  else breach(field, 'changed-pattern', `was ${bPattern ? `/${bPattern}/` : 'none'}, now ${aPattern ? `/${aPattern}/` : 'none'}`);
}

/** Instants written in each way zod's date-time options tell apart, to say what a pattern change means. */
const instants = ['2026-11-21T09:30:00Z', '2026-11-21T09:30:00.123Z', '2026-11-21T09:30:00+02:00', '2026-11-21T09:30:00'];

function probeDetail(before: string | undefined, after: string | undefined): string {
  const accepts = (pattern: string | undefined, s: string) => (pattern ? new RegExp(pattern).test(s) : true);
  const lost = instants.filter((s) => accepts(before, s) && !accepts(after, s));
  const gained = instants.filter((s) => !accepts(before, s) && accepts(after, s));
  return [
    ...(lost.length > 0 ? [`: no longer accepts ${lost.join(', ')}`] : []),
    ...(gained.length > 0 ? [`: now accepts ${gained.join(', ')}`] : []),
  ].join('');
}

type Bound = { value: number; exclusive: boolean };

/**
 * Numeric bounds, string lengths and item counts. A tighter lower or upper bound narrows what is
 * valid (writers), a looser one widens it (readers); `exclusiveMinimum: 0` and `minimum: 1` are
 * the same bound on an integer.
 */
function compareBounds(before: JsonSchema, after: JsonSchema, field: string, breach: Report): void {
  const integer = before.type === 'integer' && after.type === 'integer';
  const lower = (s: JsonSchema, inclusive: string, exclusive?: string): Bound | undefined => {
    const candidates: Bound[] = [];
    if (typeof s[inclusive] === 'number') candidates.push({ value: s[inclusive], exclusive: false });
    if (exclusive && typeof s[exclusive] === 'number')
      candidates.push(integer ? { value: s[exclusive] + 1, exclusive: false } : { value: s[exclusive], exclusive: true });
    return candidates.sort((x, y) => y.value - x.value || Number(y.exclusive) - Number(x.exclusive))[0];
  };
  const upper = (s: JsonSchema, inclusive: string, exclusive?: string): Bound | undefined => {
    const candidates: Bound[] = [];
    if (typeof s[inclusive] === 'number') candidates.push({ value: s[inclusive], exclusive: false });
    if (exclusive && typeof s[exclusive] === 'number')
      candidates.push(integer ? { value: s[exclusive] - 1, exclusive: false } : { value: s[exclusive], exclusive: true });
    return candidates.sort((x, y) => x.value - y.value || Number(y.exclusive) - Number(x.exclusive))[0];
  };
  const show = (name: string, b: Bound | undefined) => (b ? `${name} ${b.exclusive ? '>' : ''}${b.value}` : `no ${name}`);
  const pairs: Array<[name: string, side: 'lower' | 'upper', inclusive: string, exclusive?: string]> = [
    ['minimum', 'lower', 'minimum', 'exclusiveMinimum'],
    ['maximum', 'upper', 'maximum', 'exclusiveMaximum'],
    ['minLength', 'lower', 'minLength'],
    ['maxLength', 'upper', 'maxLength'],
    ['minItems', 'lower', 'minItems'],
    ['maxItems', 'upper', 'maxItems'],
    ['minProperties', 'lower', 'minProperties'],
    ['maxProperties', 'upper', 'maxProperties'],
  ];
  // A tuple's item counts follow from its positions, compared there.
  const tuple = Boolean(before.prefixItems ?? after.prefixItems);
  for (const [name, side, inclusive, exclusive] of pairs) {
    if (tuple && name.endsWith('Items')) continue;
    const read = side === 'lower' ? lower : upper;
    const b = read(before, inclusive, exclusive);
    const a = read(after, inclusive, exclusive);
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    // -1: after is tighter; 1: after is looser.
    const direction = !b
      ? -1
      : !a
        ? 1
        : side === 'lower'
          ? a.value > b.value || (a.value === b.value && a.exclusive)
            ? -1
            : 1
          : a.value < b.value || (a.value === b.value && a.exclusive)
            ? -1
            : 1;
    const detail = `was ${show(name, b)}, now ${show(name, a)}`;
    breach(field, direction < 0 ? 'narrowed-bound' : 'widened-bound', detail);
  }
  const bStep = before.multipleOf as number | undefined;
  const aStep = after.multipleOf as number | undefined;
  if (bStep !== aStep) {
    const narrowed = aStep !== undefined && (bStep === undefined || aStep % bStep === 0);
    breach(field, narrowed ? 'narrowed-bound' : 'widened-bound', `multipleOf was ${bStep ?? 'none'}, now ${aStep ?? 'none'}`);
  }
}

function compareDefaults(before: JsonSchema, after: JsonSchema, field: string, breach: Report): void {
  const show = (s: JsonSchema) => ('default' in s ? JSON.stringify(s.default) : 'none');
  // An event written without the field means the default: changing it changes what stored events say.
  if (show(before) !== show(after)) breach(field, 'changed-default', `was ${show(before)}, now ${show(after)}`);
}

/** Transforms, pipes, coercions and refinements, fingerprinted into the wire schema (json-schema.ts). */
function compareHidden(before: JsonSchema, after: JsonSchema, field: string, breach: Report): void {
  const b = (before[HIDDEN] as string | undefined) ?? 'none';
  const a = (after[HIDDEN] as string | undefined) ?? 'none';
  if (b !== a) breach(field, 'output-only-change', `was ${b}, now ${a}: what readers get is not what the wire schema says`);
}

/** enum → its type (`z.enum` → `z.string()`): the same JSON type, reported as a widened enum, not a type change. */
function enumToType(before: JsonSchema, after: JsonSchema): boolean {
  const type = (s: JsonSchema) => {
    const values = allowedValues(s);
    return values ? [...new Set(values.map((v) => (v === null ? 'null' : typeof v)))].join('|') : undefined;
  };
  const b = type(before) ?? typesOf(before, false);
  const a = type(after) ?? typesOf(after, false);
  return b === a && b !== 'any';
}

function allowedValues(s: JsonSchema): unknown[] | undefined {
  if (s.enum) return s.enum;
  if ('const' in s) return [s.const];
  return undefined;
}

/** `T | null` is emitted either as `type: [T, 'null']` or as `anyOf: [T, {type: 'null'}]`. */
function unwrapNullable(s: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  const union = s.anyOf ?? s.oneOf;
  if (union && union.length === 2) {
    const nonNull = union.filter((x) => x.type !== 'null');
    if (nonNull.length === 1) return { schema: nonNull[0] as JsonSchema, nullable: true };
  }
  return { schema: s, nullable: false };
}

function typesOf(s: JsonSchema, nullable: boolean): string {
  const types = new Set<string>();
  if (Array.isArray(s.type)) s.type.forEach((t) => types.add(t));
  else if (s.type) types.add(s.type);
  else if ('const' in s) types.add(s.const === null ? 'null' : typeof s.const);
  else if (s.anyOf ?? s.oneOf) types.add('union');
  if (nullable) types.add('null');
  return types.size === 0 ? 'any' : [...types].sort().join('|');
}

const isSchema = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A structural fingerprint ignoring documentation, for rename hints and union comparison. */
function signature(s: JsonSchema): string {
  return JSON.stringify(s, (key, value: unknown) =>
    key === 'description' || key === 'title' || key === 'default' ? undefined : value,
  );
}

const list = (values: unknown[]) => values.map((v) => JSON.stringify(v)).join(', ');
