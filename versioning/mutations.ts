// Over 250 lines on purpose: one mutation operator per kind of command site, each small, all in one table.
import ts from 'typescript';
import { repoRoot } from './releases';
import { COMMAND_KINDS, findSites, isFunctionLike, workflowProgram, type Site, type SiteKind } from './command-sites';

/**
 * Mutations of the saga generated from its code: every operator applied at every site
 * versioning/command-sites.ts finds, so the mutation check measures the replay net against the
 * code as it is, not against the mistakes someone thought of. Two kinds:
 * - `caught`: an edit that changes the commands a saga issues (delete, duplicate or swap an
 *   activity; delete or move an undo; remove, add or untime a timer; drop or invert a patch guard;
 *   remove a cancellation scope, a child or continue-as-new; move a wait for a message). The corpus
 *   must fail replay on each, or the mutation is listed in versioning/uncatchable-mutations.ts.
 * - `replays`: an edit Temporal accepts (timeouts, retry policies, summaries, log lines, a new
 *   query). The corpus must replay; a failure would be a false alarm that teaches people to ignore it.
 */
export interface Mutation {
  /** Stable across edits elsewhere in the saga: operator and site label (`delete activity submitOrder`). */
  id: string;
  kind: SiteKind;
  expect: 'caught' | 'replays';
  /** The file it edits, relative to the repository root (workflows/…). */
  file: string;
  line: number;
  /** The first and last character of the analysed source the edits touch. */
  span: readonly [number, number];
  apply(source: string): string;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

function mutation(site: Site, operator: string, expect: Mutation['expect'], edits: Edit[]): Mutation {
  const sf = site.node.getSourceFile();
  const original = sf.getFullText();
  const expected = edits.map((e) => original.slice(e.start, e.end));
  const id = `${operator} ${site.label}`;
  return {
    id,
    kind: site.kind,
    expect,
    file: site.file,
    line: site.line,
    span: [Math.min(...edits.map((e) => e.start)), Math.max(...edits.map((e) => e.end))],
    apply(source) {
      // Positions come from the analysed text: a source that moved on makes the mutation stale, loudly.
      edits.forEach((e, i) => {
        if (source.slice(e.start, e.end) !== expected[i]) throw new Error(`mutation "${id}" is stale for ${site.file}`);
      });
      return [...edits].sort((a, b) => b.start - a.start).reduce((s, e) => s.slice(0, e.start) + e.text + s.slice(e.end), source);
    },
  };
}

const replace = (node: ts.Node, text: string): Edit => ({ start: node.getStart(), end: node.getEnd(), text });

/** The statement that holds `node` directly in a block (or the file). */
function ancestors(node: ts.Node): ts.Node[] {
  const out: ts.Node[] = [];
  for (let n = node.parent; n; n = n.parent) {
    if (isFunctionLike(n)) break;
    out.push(n);
  }
  return out;
}

function statementOf(node: ts.Node): ts.Statement | undefined {
  for (let n: ts.Node | undefined = node; n; n = n.parent) {
    if (isFunctionLike(n) && n !== node) return undefined;
    if (n.parent && (ts.isBlock(n.parent) || ts.isSourceFile(n.parent) || ts.isCaseClause(n.parent))) return n as ts.Statement;
  }
  return undefined;
}

/** The statement one block further out, across an arrow or function passed as an argument. */
function outerStatement(stmt: ts.Statement): ts.Statement | undefined {
  for (let n: ts.Node | undefined = stmt.parent; n; n = n.parent) {
    if (ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n)) return undefined;
    if (n !== stmt.parent && n.parent && (ts.isBlock(n.parent) || ts.isSourceFile(n.parent))) return n as ts.Statement;
  }
  return undefined;
}

function siblings(stmt: ts.Statement): readonly ts.Statement[] {
  const p = stmt.parent;
  return ts.isBlock(p) || ts.isSourceFile(p) || ts.isCaseClause(p) ? p.statements : [];
}

function declared(stmt: ts.Node): Set<string> {
  const names = new Set<string>();
  const bind = (n: ts.BindingName) => {
    if (ts.isIdentifier(n)) names.add(n.text);
    else n.elements.forEach((e) => !ts.isOmittedExpression(e) && bind(e.name));
  };
  if (ts.isVariableStatement(stmt)) stmt.declarationList.declarations.forEach((d) => bind(d.name));
  if ((ts.isFunctionDeclaration(stmt) || ts.isClassDeclaration(stmt)) && stmt.name) names.add(stmt.name.text);
  return names;
}

function referenced(node: ts.Node): Set<string> {
  const names = new Set<string>();
  const visit = (n: ts.Node) => {
    if (ts.isIdentifier(n)) names.add(n.text);
    n.forEachChild(visit);
  };
  visit(node);
  return names;
}

/** Moving `stmt` across `others` keeps the code compiling only when neither side uses what the other declares. */
function independent(stmt: ts.Statement, others: readonly ts.Statement[]): boolean {
  const usesS = referenced(stmt);
  const declS = declared(stmt);
  return others.every((o) => {
    const declO = declared(o);
    const usesO = referenced(o);
    return ![...declO].some((n) => usesS.has(n)) && ![...declS].some((n) => usesO.has(n));
  });
}

const movable = (s: ts.Statement) => !ts.isReturnStatement(s) && !ts.isThrowStatement(s);

/** Edits that move `stmt` to just after the next statement holding a command, or undefined if it cannot move. */
function moveAfterNext(
  stmt: ts.Statement,
  holdsCommand: (s: ts.Statement) => boolean,
  requireActivity = false,
): Edit[] | undefined {
  const list = siblings(stmt);
  const i = list.indexOf(stmt);
  const j = list.findIndex((s, k) => k > i && holdsCommand(s));
  const target = list[j];
  if (j < 0 || !target || !movable(stmt) || !movable(target) || (requireActivity && !holdsCommand(target))) return undefined;
  if (!independent(stmt, list.slice(i + 1, j + 1))) return undefined;
  const text = stmt.getSourceFile().getFullText().slice(stmt.getFullStart(), stmt.getEnd());
  return [
    { start: stmt.getFullStart(), end: stmt.getEnd(), text: '' },
    { start: target.getEnd(), end: target.getEnd(), text },
  ];
}

function moveBeforePrevious(stmt: ts.Statement, holdsCommand: (s: ts.Statement) => boolean): Edit[] | undefined {
  const list = siblings(stmt);
  const i = list.indexOf(stmt);
  let j = -1;
  for (let k = i - 1; k >= 0 && j < 0; k--) if (holdsCommand(list[k] as ts.Statement)) j = k;
  const target = list[j];
  if (j < 0 || !target || !movable(stmt)) return undefined;
  if (!independent(stmt, list.slice(j, i))) return undefined;
  const text = stmt.getSourceFile().getFullText().slice(stmt.getFullStart(), stmt.getEnd());
  return [
    { start: target.getFullStart(), end: target.getFullStart(), text },
    { start: stmt.getFullStart(), end: stmt.getEnd(), text: '' },
  ];
}

/** A wait moves as far out as it must to cross a step: first block level where the move compiles. */
function climb(node: ts.Node, move: (s: ts.Statement) => Edit[] | undefined): Edit[] | undefined {
  for (let s = statementOf(node); s; s = outerStatement(s)) {
    const edits = move(s);
    if (edits) return edits;
  }
  return undefined;
}

const NOOP_ACTIVITY = '(async (..._: unknown[]) => ({}) as never)';
const TWICE = '(<A extends unknown[], R>(f: (...a: A) => Promise<R>) => (...a: A) => f(...a).then(() => f(...a)))';

export function generateMutations(root = repoRoot): Mutation[] {
  const sites = findSites(workflowProgram(root));
  const commands = sites.filter((s) => COMMAND_KINDS.has(s.kind));
  const activities = sites.filter((s) => s.kind === 'activity');
  const within = (stmt: ts.Statement, list: Site[]) =>
    list.some(
      (c) =>
        c.node.getSourceFile() === stmt.getSourceFile() &&
        c.node.getStart() >= stmt.getStart() &&
        c.node.getEnd() <= stmt.getEnd(),
    );
  const holdsCommand = (s: ts.Statement) => within(s, commands);
  const holdsActivity = (s: ts.Statement) => within(s, activities);

  const out: Mutation[] = [];
  const push = (site: Site, operator: string, expect: Mutation['expect'], edits: Edit[] | undefined) => {
    if (edits) out.push(mutation(site, operator, expect, edits));
  };
  for (const site of sites) {
    const { node } = site;
    const call = ts.isCallExpression(node) ? node : undefined;
    const callee = call?.expression.getText() ?? '';
    const args = call?.arguments.map((a) => a.getText()) ?? [];
    switch (site.kind) {
      case 'activity': {
        push(site, 'delete activity', 'caught', [replace(node, NOOP_ACTIVITY)]);
        push(site, 'duplicate activity', 'caught', [replace(node, `${TWICE}(${node.getText()})`)]);
        const stmt = statementOf(node);
        if (stmt) push(site, 'swap activity with the next step', 'caught', moveAfterNext(stmt, holdsCommand));
        break;
      }
      case 'undo': {
        const stmt = statementOf(node);
        if (!stmt) break;
        push(site, 'delete undo', 'caught', [{ start: stmt.getFullStart(), end: stmt.getEnd(), text: '' }]);
        push(site, 'move undo after its step', 'caught', moveAfterNext(stmt, holdsActivity, true));
        break;
      }
      case 'timer': {
        if (!call) break;
        const [fn, timeout] = args;
        const sleeps = args.length === 1 && !/=>/.test(fn ?? '') && timeout === undefined && !callee.endsWith('condition');
        // A condition() removed inside a loop spins forever (replay has no deadlock detector in
        // debug mode): that is a hang, not a deployable change, so it is not generated.
        const inLoop = ancestors(node).some((a) => ts.isForStatement(a) || ts.isWhileStatement(a) || ts.isDoStatement(a));
        if (!(inLoop && callee.endsWith('condition')))
          push(site, 'remove timer', 'caught', [
            replace(node, sleeps ? 'Promise.resolve()' : timeout ? `Promise.resolve((${fn})())` : 'Promise.resolve()'),
          ]);
        const extra = sleeps ? `${callee}(1000)` : `${callee}(() => false, 1000)`;
        push(site, 'add a timer before', 'caught', [replace(node, `${extra}.then(() => ${node.getText()})`)]);
        if (!sleeps && timeout) push(site, 'make wait untimed', 'caught', [replace(node, `${callee}(${fn}).then(() => true)`)]);
        if (!sleeps && !timeout) push(site, 'give wait a timeout', 'caught', [replace(node, `${callee}(${fn}, 1000)`)]);
        break;
      }
      case 'patch':
        if (callee.endsWith('deprecatePatch')) push(site, 'drop', 'caught', [replace(node, 'undefined')]);
        else {
          push(site, 'drop guard', 'caught', [replace(node, 'true')]);
          push(site, 'invert guard', 'caught', [replace(node, `!${node.getText()}`)]);
        }
        break;
      case 'scope':
        push(site, 'remove cancellation scope', 'caught', [replace(node, `(${args.at(-1) ?? '() => undefined'})()`)]);
        break;
      case 'child':
        push(site, 'remove', 'caught', [replace(node, '(undefined as never)')]);
        break;
      case 'wait':
        push(
          site,
          'move wait earlier',
          'caught',
          climb(node, (s) => moveBeforePrevious(s, holdsCommand)),
        );
        push(
          site,
          'move wait later',
          'caught',
          climb(node, (s) => moveAfterNext(s, holdsCommand)),
        );
        break;
      case 'option': {
        // A value that stays valid beside the others: a shorter first retry, a longer cap or timeout, one more attempt.
        const v = node.getText();
        const key = site.label.split(':')[0];
        const changed = /^\d/.test(v) ? String(Number(v) + 1) : key === 'initialInterval' ? "'100ms'" : "'47m'";
        push(site, 'change option', 'replays', [replace(node, changed)]);
        break;
      }
      case 'summary':
        push(site, 'change summary', 'replays', [replace(node, `\`changed: \${${node.getText()}}\``)]);
        break;
      case 'log':
        if (call?.arguments[0])
          push(site, 'change log line', 'replays', [replace(call.arguments[0], `'changed: ' + ${args[0]}`)]);
        break;
      case 'handlers':
        push(site, 'add a query after the', 'replays', [
          { start: 0, end: 0, text: "import { defineQuery as defineProbeQuery } from '@temporalio/workflow';\n" },
          {
            start: node.getEnd(),
            end: node.getEnd(),
            text: "\n  setHandler(defineProbeQuery<number>('mutationProbe'), () => 1);",
          },
        ]);
        break;
    }
  }
  const ids = new Set<string>();
  for (const m of out) {
    if (ids.has(m.id)) throw new Error(`two mutations share the id "${m.id}"`);
    ids.add(m.id);
  }
  return out;
}
