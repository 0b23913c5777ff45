import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { patchRegistry, type PatchEntry } from './patches';

/**
 * Keeps the workflow code and the patch registry in agreement. A patch id that code uses but the
 * registry does not know (or knows in another phase) is a change nobody planned the retirement
 * of; a removed patch still in code means its old branch was never really deleted.
 */
export interface PatchCall {
  kind: 'patched' | 'deprecatePatch';
  /** The literal id, or undefined when the argument is not a string literal. */
  id: string | undefined;
  file: string;
  line: number;
}

const CALL = /\b(patched|deprecatePatch)\s*\(\s*([^)]*?)\s*\)/g;
const LITERAL = /^(['"`])([^'"`$]+)\1$/;

export function findPatchCalls(source: string, file: string): PatchCall[] {
  const calls: PatchCall[] = [];
  // Comments may mention patched('x') when explaining it; only code counts.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/\/\/[^\n]*/g, '');
  for (const match of code.matchAll(CALL)) {
    const before = code.slice(0, match.index);
    // `function patched(` or `import { patched }` are not calls; a declaration has a keyword before it.
    if (/(function|def)\s*$/.test(before)) continue;
    const literal = LITERAL.exec(match[2] ?? '');
    calls.push({
      kind: match[1] as PatchCall['kind'],
      id: literal?.[2],
      file,
      line: before.split('\n').length,
    });
  }
  return calls;
}

export function checkPatches(registry: readonly PatchEntry[], calls: readonly PatchCall[]): string[] {
  const problems: string[] = [];
  const byId = new Map<string, PatchEntry>();
  for (const entry of registry) {
    if (byId.has(entry.id)) problems.push(`registry lists patch '${entry.id}' twice`);
    byId.set(entry.id, entry);
  }
  const where = (c: PatchCall) => `${c.file}:${c.line}`;
  for (const call of calls) {
    if (call.id === undefined) {
      problems.push(`${where(call)}: ${call.kind}() needs a string literal id, so the registry check can read it`);
      continue;
    }
    const entry = byId.get(call.id);
    const expected = call.kind === 'patched' ? 'patched' : 'deprecated';
    if (!entry) problems.push(`${where(call)}: ${call.kind}('${call.id}') is not in versioning/patches.ts`);
    else if (entry.phase === 'removed')
      problems.push(`${where(call)}: patch '${call.id}' is registered as removed but code still calls ${call.kind}()`);
    else if (entry.phase !== expected)
      problems.push(`${where(call)}: ${call.kind}('${call.id}') but the registry holds it as ${entry.phase}`);
  }
  for (const entry of registry) {
    if (entry.phase === 'removed') continue;
    const used = calls.some((c) => c.id === entry.id && (c.kind === 'patched') === (entry.phase === 'patched'));
    if (!used) {
      const call = entry.phase === 'patched' ? 'patched' : 'deprecatePatch';
      problems.push(`registry holds '${entry.id}' as ${entry.phase} but no workflow code calls ${call}('${entry.id}')`);
    }
  }
  return problems;
}

/** Every `.ts` file under `dir`, as paths relative to `root`. */
export function typeScriptFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return; // no workflow folder yet: nothing to check
    }
    for (const name of names.sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) out.push(relative(root, path));
    }
  };
  walk(join(root, dir));
  return out;
}

export function checkRepository(root: string, registry: readonly PatchEntry[] = patchRegistry): string[] {
  const calls = typeScriptFiles(root, 'workflows').flatMap((f) => findPatchCalls(readFileSync(join(root, f), 'utf8'), f));
  return checkPatches(registry, calls);
}

if (require.main === module) {
  const problems = checkRepository(join(__dirname, '..'));
  for (const p of problems) console.error(p);
  console.log(
    problems.length === 0 ? `patches: ${patchRegistry.length} registered, code agrees` : `patches: ${problems.length} problem(s)`,
  );
  process.exit(problems.length === 0 ? 0 : 1);
}
