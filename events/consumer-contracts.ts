import { newestVersion, type EventCatalog } from './definition';
import { wireSchema, type JsonSchema } from './json-schema';

/**
 * Consumer-driven contracts: each consumer declares which events it reads and which fields of
 * them it relies on, with the JSON type it expects. The producer's schemas are checked against
 * every declaration, so a producer change that would break a reader fails before it ships.
 *
 * Paths are dotted (`total.amount`), `[]` steps into array items (`items[].sku`), and a trailing
 * `?` says the consumer copes when the field is absent. Types may be unions: `'string|null'`.
 */
export type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null' | 'any';

export interface ConsumerRead {
  type: string;
  /** The version the consumer was written against; it receives every newer one upcast. */
  version: number;
  fields: Readonly<Record<string, string>>;
  /**
   * The release (`major.minor`) in which the deployed consumer could first read each version of
   * the event. Producers switch to a version only in a later release (events/production.ts).
   */
  learned: Readonly<Record<number, string>>;
}

export interface ConsumerContract {
  consumer: string;
  reads: readonly ConsumerRead[];
}

export interface ContractViolation {
  consumer: string;
  event: string;
  version: number;
  field: string;
  problem: string;
}

export function describeViolation(v: ContractViolation): string {
  return `consumer ${v.consumer} reads ${v.event} v${v.version} field "${v.field}": ${v.problem}`;
}

export function checkContracts(catalog: EventCatalog, contracts: readonly ConsumerContract[]): ContractViolation[] {
  return contracts.flatMap((c) => c.reads.flatMap((read) => checkRead(catalog, c.consumer, read)));
}

function checkRead(catalog: EventCatalog, consumer: string, read: ConsumerRead): ContractViolation[] {
  const def = catalog[read.type];
  const out: ContractViolation[] = [];
  const violate = (version: number, field: string, problem: string) =>
    out.push({ consumer, event: read.type, version, field, problem });
  if (!def)
    return [
      { consumer, event: read.type, version: read.version, field: '(event)', problem: 'no such event type in the catalog' },
    ];
  if (!def.versions[read.version])
    return [{ consumer, event: read.type, version: read.version, field: '(event)', problem: 'no such version in the catalog' }];
  // Upcasting hands the consumer the newest version, so every version from its own on must hold.
  for (let v = read.version; v <= newestVersion(def); v += 1) {
    const schema = def.versions[v];
    if (!schema) continue;
    const json = wireSchema(schema);
    for (const [declared, expected] of Object.entries(read.fields)) {
      const problem = checkField(json, declared, expected);
      if (problem) violate(v, declared.replace(/\?$/, ''), problem);
    }
  }
  return out;
}

function checkField(root: JsonSchema, declared: string, expected: string): string | undefined {
  const optional = declared.endsWith('?');
  const segments = declared.replace(/\?$/, '').split('.');
  let node: JsonSchema = root;
  let walked = '';
  for (const segment of segments) {
    const array = segment.endsWith('[]');
    const name = array ? segment.slice(0, -2) : segment;
    const object = nonNull(node);
    const child = object.properties?.[name];
    const here = walked ? `${walked}.${name}` : name;
    if (!child) return `"${here}" is not in the producer schema (removed or renamed)`;
    if (!optional && !(object.required ?? []).includes(name))
      return `"${here}" is optional in the producer schema; declare it as "${declared}?" if the consumer copes without it`;
    node = child;
    walked = array ? `${here}[]` : here;
    if (array) {
      const items = nonNull(node).items;
      if (!items) return `"${here}" is no longer an array`;
      node = items;
    }
  }
  const actual = typesOf(node);
  const accepted = new Set(expected.split('|'));
  if (accepted.has('any')) return undefined;
  const unaccepted = actual.filter((t) => !accepted.has(t) && !(t === 'integer' && accepted.has('number')));
  if (unaccepted.length > 0) return `type is ${actual.join('|')}, the consumer expects ${expected}`;
  return undefined;
}

function nonNull(s: JsonSchema): JsonSchema {
  const union = s.anyOf ?? s.oneOf;
  const nonNullBranches = union?.filter((x) => x.type !== 'null');
  return nonNullBranches && nonNullBranches.length === 1 ? (nonNullBranches[0] as JsonSchema) : s;
}

function typesOf(s: JsonSchema): string[] {
  const union = s.anyOf ?? s.oneOf;
  if (union) return [...new Set(union.flatMap(typesOf))].sort();
  if (Array.isArray(s.type)) return [...s.type].sort();
  if (s.type) return [s.type];
  if ('const' in s) return [s.const === null ? 'null' : typeof s.const];
  if (s.enum) return [...new Set(s.enum.map((v) => (v === null ? 'null' : typeof v)))].sort();
  return ['any'];
}
