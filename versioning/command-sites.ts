import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/**
 * Every place in workflows/ where the saga's code decides which commands it issues, found from the
 * TypeScript AST and the type checker (not from a list kept by hand): activity calls, undo
 * registrations, timers and timed waits, `patched()` guards, cancellation scopes, children and
 * continue-as-new, and the waits for messages. versioning/mutations.ts turns each into edits a
 * developer could make; a new step, wait or patch in the saga becomes new sites without any change here.
 */
export type SiteKind =
  'activity' | 'undo' | 'timer' | 'wait' | 'patch' | 'scope' | 'child' | 'log' | 'option' | 'summary' | 'handlers';

export interface Site {
  kind: SiteKind;
  /** What the site is, in the saga's words: the activity, the patch id, the timer call. */
  label: string;
  /** The node an operator edits: the activity-typed expression, the call, the statement. */
  node: ts.Node;
  file: string;
  line: number;
}

export interface WorkflowProgram {
  program: ts.Program;
  checker: ts.TypeChecker;
  /** workflows/*.ts of the analysed tree, relative to its root. */
  files: string[];
  root: string;
  sourceOf(file: string): ts.SourceFile;
}

export const compilerOptions = (root: string): ts.CompilerOptions => {
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), (p) => ts.sys.readFile(p));
  return ts.parseJsonConfigFileContent(config.config, ts.sys, root).options;
};

export function workflowFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.ts')) out.push(relative(root, join(dir, e.name)));
    }
  };
  walk(join(root, 'workflows'));
  return out;
}

export function workflowProgram(root: string, host?: ts.CompilerHost): WorkflowProgram {
  const files = workflowFiles(root);
  const program = ts.createProgram(
    files.map((f) => join(root, f)),
    compilerOptions(root),
    host,
  );
  return {
    program,
    checker: program.getTypeChecker(),
    files,
    root,
    sourceOf: (file) => {
      const sf = program.getSourceFile(join(root, file));
      if (!sf) throw new Error(`${file} is not in the program`);
      return sf;
    },
  };
}

const WORKFLOW_API = /[/\\]@temporalio[/\\]workflow[/\\]/;
const TIMERS = new Set(['sleep', 'condition']);
const CHILDREN = new Set(['startChild', 'executeChild', 'continueAsNew', 'makeContinueAsNewFunc']);
const SCOPES = new Set(['CancellationScope.nonCancellable', 'CancellationScope.cancellable', 'CancellationScope.withTimeout']);
const LOG_LEVELS = new Set(['log.trace', 'log.debug', 'log.info', 'log.warn', 'log.error']);
const OPTION_KEYS = new Set([
  'startToCloseTimeout',
  'scheduleToCloseTimeout',
  'scheduleToStartTimeout',
  'heartbeatTimeout',
  'initialInterval',
  'maximumInterval',
  'backoffCoefficient',
  'maximumAttempts',
]);

export function isFunctionLike(n: ts.Node): n is ts.FunctionLikeDeclaration {
  return ts.isArrowFunction(n) || ts.isFunctionExpression(n) || ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n);
}

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  node.forEachChild((c) => walk(c, visit));
}

function ancestors(node: ts.Node): ts.Node[] {
  const out: ts.Node[] = [];
  for (let n = node.parent; n; n = n.parent) out.push(n);
  return out;
}

export function findSites(wp: WorkflowProgram): Site[] {
  const { checker } = wp;
  const sources = wp.files.map((f) => ({ file: f, sf: wp.sourceOf(f) }));

  const resolve = (n: ts.Node): ts.Symbol | undefined => {
    const s = checker.getSymbolAtLocation(ts.isPropertyAccessExpression(n) ? n.name : n);
    return s && s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
  };
  const fromWorkflowApi = (s: ts.Symbol | undefined) =>
    !!s?.declarations?.some((d) => WORKFLOW_API.test(d.getSourceFile().fileName));
  /** `sleep`, `CancellationScope.nonCancellable`, `log.info`…: the workflow API a call reaches. */
  const apiName = (callee: ts.Expression): string | undefined => {
    if (ts.isIdentifier(callee)) {
      const s = resolve(callee);
      return fromWorkflowApi(s) ? s?.getName() : undefined;
    }
    if (ts.isPropertyAccessExpression(callee)) {
      const owner = resolve(callee.expression);
      return fromWorkflowApi(owner) ? `${owner?.getName()}.${callee.name.text}` : undefined;
    }
    return undefined;
  };

  // Activity proxies: variables initialised by proxyActivities()/proxyLocalActivities().
  const proxies = new Set<ts.Node>();
  for (const { sf } of sources)
    walk(sf, (n) => {
      if (ts.isVariableDeclaration(n) && n.initializer && ts.isCallExpression(n.initializer)) {
        const api = apiName(n.initializer.expression);
        if (api === 'proxyActivities' || api === 'proxyLocalActivities') proxies.add(n);
      }
    });
  // Activity functions: the functions that schedule an activity through a proxy themselves.
  const activityFns = new Set<ts.Node>();
  const activityName = new Map<ts.Node, string>();
  for (const { sf } of sources)
    walk(sf, (n) => {
      if (!ts.isPropertyAccessExpression(n)) return;
      const owner = resolve(n.expression);
      if (!owner?.valueDeclaration || !proxies.has(owner.valueDeclaration)) return;
      const fn = ancestors(n).find(isFunctionLike);
      if (fn) {
        activityFns.add(fn);
        activityName.set(fn, n.name.text);
      }
    });
  const activityFnOf = (t: ts.Type): ts.Node | undefined => {
    const d = t.getSymbol()?.declarations?.[0];
    return d && activityFns.has(d) ? d : undefined;
  };
  const activityTyped = (e: ts.Node) => activityFnOf(checker.getTypeAtLocation(e));

  // The undo list: the class that compensates; a registration is a call of its other methods with a function.
  const undoRegistration = (c: ts.CallExpression): boolean => {
    if (!ts.isPropertyAccessExpression(c.expression)) return false;
    const decl = checker.getSymbolAtLocation(c.expression.name)?.valueDeclaration;
    if (!decl || !ts.isMethodDeclaration(decl) || !ts.isClassDeclaration(decl.parent)) return false;
    // The list's own bookkeeping (this.changed(), this.untilDone(e)) registers nothing.
    if (c.expression.expression.kind === ts.SyntaxKind.ThisKeyword) return false;
    const names = decl.parent.members.map((m) => m.name?.getText());
    return names.includes('compensate') && decl.name.getText() !== 'compensate';
  };
  // Waiting functions: functions whose body waits with condition() (the saga's wait for a message).
  const waitingFns = new Set<ts.Node>();
  for (const { sf } of sources)
    walk(sf, (n) => {
      if (ts.isCallExpression(n) && apiName(n.expression) === 'condition') {
        const fn = ancestors(n).find(isFunctionLike);
        if (fn && !ts.isArrowFunction(fn)) waitingFns.add(fn);
      }
    });

  const sites: Site[] = [];
  for (const { file, sf } of sources) {
    // Labels are ids: one line, short enough to read in the table.
    const add = (kind: SiteKind, label: string, node: ts.Node) =>
      sites.push({
        kind,
        label: label.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')').slice(0, 90),
        node,
        file,
        line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1,
      });
    const excluded = (n: ts.Node) =>
      ancestors(n).some((a) => activityFns.has(a) || (ts.isCallExpression(a) && undoRegistration(a)));
    const labelOf = (e: ts.Node) => {
      const fn = activityTyped(e);
      return (fn && activityName.get(fn)) ?? e.getText();
    };
    walk(sf, (n) => {
      if (ts.isCallExpression(n)) {
        const api = apiName(n.expression);
        if (api && TIMERS.has(api)) add('timer', `${api}(${n.arguments.map((a) => a.getText()).join(', ')})`, n);
        else if (api === 'patched' || api === 'deprecatePatch')
          add('patch', `${api}(${n.arguments[0]?.getText() ?? ''})`.replace(/"/g, "'"), n);
        else if (api && SCOPES.has(api)) add('scope', api, n);
        else if (api && CHILDREN.has(api)) add('child', api, n);
        else if (api && LOG_LEVELS.has(api) && n.arguments[0]) add('log', `${api}(${n.arguments[0].getText()})`, n);
        else if (api === 'setHandler') {
          // The statement after the last handler of a function is where a new query would go.
          const stmt = ancestors(n).find(ts.isExpressionStatement);
          const block = stmt?.parent;
          if (stmt && block && ts.isBlock(block)) {
            const handlers = block.statements.filter((s) => /^\s*setHandler\(/.test(s.getText()));
            if (handlers.at(-1) === stmt) add('handlers', 'message handlers', stmt);
          }
        } else if (undoRegistration(n) && !excluded(n)) {
          const first = n.arguments[0];
          const method = ts.isPropertyAccessExpression(n.expression) ? n.expression.name.text : 'add';
          add('undo', first && ts.isStringLiteral(first) ? first.text : `${method}(…)`, n);
        } else if (!excluded(n) && activityTyped(n.expression)) {
          add('activity', labelOf(n.expression), n.expression);
        } else if (!excluded(n)) {
          const decl = checker.getResolvedSignature(n)?.getDeclaration();
          if (decl && waitingFns.has(decl)) add('wait', n.getText(), n);
          // An activity handed to a function that will call it (a step), unless that function takes
          // the activity itself as a parameter of its type (plumbing: its call inside is the site).
          const signature = checker.getResolvedSignature(n);
          n.arguments.forEach((arg, i) => {
            if (!(ts.isIdentifier(arg) || ts.isPropertyAccessExpression(arg)) || !activityTyped(arg)) return;
            const param = signature?.getParameters()[i];
            const declared = param?.valueDeclaration;
            if (declared && activityFnOf(checker.getTypeOfSymbolAtLocation(param, declared))) return;
            add('activity', labelOf(arg), arg);
          });
        }
        // A summary is the argument a call passes to a parameter named `summary`.
        const signature = checker.getResolvedSignature(n);
        n.arguments.forEach((arg, i) => {
          if (signature?.getParameters()[i]?.getName() !== 'summary') return;
          const owner = ancestors(n).find(ts.isPropertyAssignment);
          add('summary', owner ? `of ${owner.name.getText()}` : arg.getText().slice(0, 40), arg);
        });
      } else if (ts.isPropertyAssignment(n) && OPTION_KEYS.has(n.name.getText())) {
        add('option', `${n.name.getText()}: ${n.initializer.getText()}`, n.initializer);
      }
    });
  }
  // Several sites of one label (capturePayment before and after dispatch) are told apart by their order.
  const seen = new Map<string, number>();
  for (const s of sites) {
    const key = `${s.kind} ${s.label}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (n > 1) s.label = `${s.label} #${n}`;
  }
  return sites;
}

/** Sites that issue or decide a command: what a statement must contain to be a step of the sequence. */
export const COMMAND_KINDS: ReadonlySet<SiteKind> = new Set(['activity', 'timer', 'wait', 'patch', 'child', 'scope']);
