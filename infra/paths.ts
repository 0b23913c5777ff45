import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root: infra/ sits directly under it. */
export const repoRoot = resolve(__dirname, '..');

/** Runtime state of the local stack (databases, logs): inside the clone, ignored by git. */
export const dataDir = process.env.TRAPEZE_DATA_DIR ?? join(repoRoot, '.data');

/** Installs live outside the repo so a fresh clone on the same machine installs nothing. */
export const cacheDir = process.env.TRAPEZE_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'trapeze');
