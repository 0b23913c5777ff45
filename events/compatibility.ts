import type { JsonSchema } from './json-schema';

/**
 * Reader compatibility of one event version: can everything written under the `after` schema
 * still be read by a consumer written against `before` (the published snapshot), and can old
 * stored events still be read under `after`? Additive optional fields pass; everything else
 * that changes what a reader may rely on is a breach and needs a new version instead.
 */
export type BreachRule = 'removed-field' | 'changed-type' | 'new-required-field' | 'narrowed-enum' | 'made-optional';

export interface Breach {
  event: string;
  version: number;
  field: string;
  rule: BreachRule;
  detail: string;
}

const ruleText: Record<BreachRule, string> = {
  'removed-field': 'removed or renamed field',
  'changed-type': 'changed type',
  'new-required-field': 'new required field',
  'narrowed-enum': 'narrowed enum',
  'made-optional': 'required field made optional',
};

export function describeBreach(b: Breach): string {
  return `${b.event} v${b.version}: field "${b.field}": ${ruleText[b.rule]} (${b.detail})`;
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
  if (bTypes !== aTypes) {
    breach(field, 'changed-type', `was ${bTypes}, now ${aTypes}`);
    return; // below a changed type every further difference is noise
  }
  if ((b.schema.format ?? '') !== (a.schema.format ?? '')) {
    breach(field, 'changed-type', `format was ${b.schema.format ?? 'none'}, now ${a.schema.format ?? 'none'}`);
  }
  compareEnums(b.schema, a.schema, field, breach);
  compareUnions(b.schema, a.schema, field, breach);

  if (b.schema.properties || a.schema.properties) compareObjects(b.schema, a.schema, path, breach);
  if (b.schema.items && a.schema.items) walk(b.schema.items, a.schema.items, `${path}[]`, breach);
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
  for (const name of added) {
    // A rename is reported once, as the removal of the old name.
    if (aRequired.has(name) && !renameTargets.has(name))
      breach(join(name), 'new-required-field', 'events written before it lack it; add it as optional or publish a new version');
  }
}

function compareEnums(before: JsonSchema, after: JsonSchema, field: string, breach: Report): void {
  const bValues = allowedValues(before);
  const aValues = allowedValues(after);
  if (!aValues) return; // no enum now: everything of the type is allowed, nothing narrowed
  if (!bValues) {
    breach(field, 'narrowed-enum', `any value was allowed, now only ${list(aValues)}`);
    return;
  }
  const removed = bValues.filter((v) => !aValues.some((x) => JSON.stringify(x) === JSON.stringify(v)));
  if (removed.length > 0) breach(field, 'narrowed-enum', `no longer allows ${list(removed)}`);
}

function compareUnions(before: JsonSchema, after: JsonSchema, field: string, breach: Report): void {
  const bUnion = before.anyOf ?? before.oneOf;
  const aUnion = after.anyOf ?? after.oneOf;
  if (!bUnion && !aUnion) return;
  if (signature(before) !== signature(after)) breach(field, 'changed-type', 'the alternatives of a union changed');
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

/** A structural fingerprint ignoring documentation, for rename hints and union comparison. */
function signature(s: JsonSchema): string {
  return JSON.stringify(s, (key, value: unknown) =>
    key === 'description' || key === 'title' || key === 'default' ? undefined : value,
  );
}

const list = (values: unknown[]) => values.map((v) => JSON.stringify(v)).join(', ');
