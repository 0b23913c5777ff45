import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The commit whose workflows/ each release shipped. Tests that need an older release's saga code
 * (mid-flight tests: sagas started on 1.0, finished on 1.1) materialise it from git, so the
 * release is exactly what was committed, not a hand-kept copy that could drift.
 */
export const releaseCommits: Record<string, string> = {
  // The saga as finished by the saga engineer ([saga-ready]); its histories, retired by 1.5, are
  // versioning/histories/retired/1.0/.
  '1.0': '0543fc695f0815a2c244c061dbc2886b5fd466c9',
  // Fraud screening behind patched('fraud-screening'); histories in versioning/histories/1.1/.
  '1.1': '1958c405fff98daa3d9d816ea0e1c22a9c89913d',
  // The saga races (continue-as-new, finish after dispatch, bounded messages, …), five patches; histories in versioning/histories/1.2/.
  '1.2': '5d64c45fed618a9ceb59da4227a9415ffeec0ed9',
  // Every compensating saga runs every undo (undo-all-when-compensating); histories in versioning/histories/1.4/.
  '1.4': 'fb71d0bb59158342284480868410179d423558ac',
  // fraud-screening deprecated (deprecatePatch, every saga screens), 1.0 retired; histories in versioning/histories/1.5/.
  '1.5': '35448002039b71fbb92d9149c5214d9152fb2e91',
  // Search attributes change with the status, not at every step (search-attributes-by-status); histories in versioning/histories/1.6/.
  '1.6': '0ca08860809acea183266c121aa2b421ce78db64',
  // One patch marker per release (release-1-7 stands for every earlier change), SagaStep no longer per step past dispatch; histories in versioning/histories/1.7/.
  '1.7': '78afab466c95b7f761e10f0358f439f45d8c068e',
};

export const repoRoot = join(__dirname, '..');

export interface ScratchRepo {
  root: string;
  /** The workflows module path to hand to a Worker or the bundler. */
  workflowsPath: string;
  remove(): void;
}

/**
 * A scratch copy of the repository where only workflows/ is real (copied from the working tree, or
 * from a commit) and every other top-level entry is linked, so imports resolve exactly as in the
 * repository while edits stay private.
 */
export function scratchRepo(from: { commit: string } | 'working-tree' = 'working-tree'): ScratchRepo {
  const root = mkdtempSync(join(tmpdir(), 'trapeze-workflows-'));
  for (const name of readdirSync(repoRoot)) {
    if (name === 'workflows' || name === '.git') continue;
    symlinkSync(join(repoRoot, name), join(root, name));
  }
  if (from === 'working-tree') {
    cpSync(join(repoRoot, 'workflows'), join(root, 'workflows'), { recursive: true });
  } else {
    const git = (args: string[]) => execFileSync('git', args, { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
    try {
      execFileSync('git', ['cat-file', '-e', `${from.commit}^{commit}`], { cwd: repoRoot, stdio: 'ignore' });
    } catch {
      throw new Error(`commit ${from.commit} is not in this clone (a shallow checkout?): run \`git fetch --unshallow\``);
    }
    const files = git(['ls-tree', '-r', '--name-only', from.commit, 'workflows/']).toString().split('\n').filter(Boolean);
    if (files.length === 0) throw new Error(`commit ${from.commit} has no workflows/`);
    for (const file of files) {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), git(['show', `${from.commit}:${file}`]));
    }
  }
  return {
    root,
    workflowsPath: require.resolve(join(root, 'workflows')),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** The workflow code of a released version, e.g. `releaseWorkflows('1.0')`. */
export function releaseWorkflows(release: string): ScratchRepo {
  const commit = releaseCommits[release];
  if (!commit) throw new Error(`release ${release} has no recorded commit in versioning/releases.ts`);
  return scratchRepo({ commit });
}
