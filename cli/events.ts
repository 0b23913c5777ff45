import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { checkEvents, checkSnapshots } from '../events/check';
import { renderCatalogPage } from '../events/docs';
import { readExamples } from '../events/examples';
import { catalogJsonSchema } from '../events/json-schema';
import { versionStatus } from '../events/production';
import { readSnapshots, renderJson, writeSnapshots } from '../events/snapshots';
import { eventSources as s } from '../versioning/event-sources';

/**
 * `npm run events:check`    the contract check CI runs (snapshots, upcasters, examples, consumers, docs);
 * `npm run events:snapshot` publishes the current schemas (refuses a breaking change unless
 *                           `--accept-breaking`, which is only for versions nobody has consumed yet);
 * `npm run events:docs`     regenerates events/CATALOG.md and events/catalog.schema.json.
 */
export function generatedArtefacts(): Array<{ path: string; text: string }> {
  const examples = readExamples(s.examplesDir);
  return [
    {
      path: s.catalogPage,
      text: renderCatalogPage({
        catalog: s.catalog,
        upcasters: s.upcasters,
        contracts: s.contracts,
        examples,
        produced: s.producedVersion,
      }),
    },
    { path: s.catalogSchema, text: renderJson(catalogJsonSchema(s.catalog)) },
  ];
}

export function staleArtefacts(): string[] {
  return generatedArtefacts()
    .filter(({ path, text }) => {
      try {
        return readFileSync(path, 'utf8') !== text;
      } catch {
        return true;
      }
    })
    .map(({ path }) => relative(process.cwd(), path));
}

export function projectProblems(): string[] {
  const problems = checkEvents({
    catalog: s.catalog,
    upcasters: s.upcasters,
    contracts: s.contracts,
    snapshots: readSnapshots(s.snapshotsDir),
    examples: readExamples(s.examplesDir),
    produced: s.producedVersion,
    production: { switches: s.productionSwitches, currentRelease: s.currentRelease },
  }).map((p) => p.message);
  return [...problems, ...staleArtefacts().map((path) => `${path} is stale: run npm run events:docs`)];
}

function main(command: string | undefined, flags: string[]): number {
  if (command === 'docs') {
    for (const { path, text } of generatedArtefacts()) writeFileSync(path, text);
    console.log(`wrote ${relative(process.cwd(), s.catalogPage)} and ${relative(process.cwd(), s.catalogSchema)}`);
    return 0;
  }
  if (command === 'snapshot') {
    const status = versionStatus(s.producedVersion, s.productionSwitches);
    const breaches = checkSnapshots(s.catalog, readSnapshots(s.snapshotsDir), status).filter(
      (p) => p.kind === 'breach' || p.kind === 'withdrawn',
    );
    if (breaches.length > 0 && !flags.includes('--accept-breaking')) {
      console.error(breaches.map((p) => `✗ ${p.message}`).join('\n'));
      console.error(
        'refusing to snapshot a breaking change: publish a new version instead (or --accept-breaking for a version no one consumes yet)',
      );
      return 1;
    }
    const changed = writeSnapshots(s.snapshotsDir, s.catalog);
    console.log(changed.length > 0 ? `published ${changed.join(', ')}` : 'snapshots already up to date');
    return 0;
  }
  if (command === 'check') {
    const problems = projectProblems();
    if (problems.length === 0) {
      const versions = Object.values(s.catalog).reduce((n, def) => n + Object.keys(def.versions).length, 0);
      console.log(
        `event contracts hold: ${Object.keys(s.catalog).length} event types, ${versions} versions, ${s.contracts.length} consumers`,
      );
      return 0;
    }
    console.error(problems.map((p) => `✗ ${p}`).join('\n'));
    console.error(`${problems.length} contract problem(s)`);
    return 1;
  }
  console.error('usage: tsx cli/events.ts check | snapshot [--accept-breaking] | docs');
  return 2;
}

if (require.main === module) process.exit(main(process.argv[2], process.argv.slice(3)));
