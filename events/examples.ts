import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Stored example events, one per event version (`<type>.v<n>.json`, a whole envelope): upcasters
 * are tested on them, the check validates them, and the catalog page shows them.
 */
export interface StoredExample {
  file: string;
  type: string;
  version: number;
  envelope: unknown;
}

const fileName = /^(?<type>[A-Za-z0-9]+)\.v(?<version>\d+)\.json$/;

export function readExamples(dir: string): StoredExample[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .sort()
    .map((file) => ({ file, m: fileName.exec(file) }))
    .filter(({ m }) => m?.groups)
    .map(({ file, m }) => ({
      file,
      type: m?.groups?.type as string,
      version: Number(m?.groups?.version),
      envelope: JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown,
    }));
}
