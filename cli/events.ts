import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { checkEvents, checkSnapshots } from '../events/check';
import { renderCatalogPage } from '../events/docs';
import { readExamples } from '../events/examples';
import { catalogJsonSchema } from '../events/json-schema';
import { versionStatus } from '../events/production';
import { readSnapshots, renderJson, writeSnapshots } from '../events/snapshots';
import { eventSources as s } from '../versioning/event-sources';
import { act, CliError, EXIT, type Context } from './context';

/**
 * `trapeze events check`    the contract check CI runs (snapshots, upcasters, examples, consumers, docs);
 * `trapeze events snapshot` publishes the current schemas (refuses a breaking change unless
 *                           `--accept-breaking`, which is only for versions nobody has consumed yet);
 * `trapeze events docs`     regenerates events/CATALOG.md and events/catalog.schema.json.
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
  return [...problems, ...staleArtefacts().map((path) => `${path} is stale: run npx trapeze events docs`)];
}

export function eventCommands(program: Command, ctx: Context): void {
  const group = program.command('events').description('the event catalog: contract check, snapshots, generated docs');
  group
    .command('check')
    .description('the contract check CI runs: snapshots, upcasters, examples, consumers, docs (exit 3 on a problem)')
    .action(
      act(ctx, () => {
        const problems = projectProblems();
        const versions = Object.values(s.catalog).reduce((n, def) => n + Object.keys(def.versions).length, 0);
        const counts = { eventTypes: Object.keys(s.catalog).length, versions, consumers: s.contracts.length };
        ctx.emit({ ...counts, problems }, () =>
          problems.length === 0
            ? [`event contracts hold: ${counts.eventTypes} event types, ${versions} versions, ${counts.consumers} consumers`]
            : [...problems.map((p) => `✗ ${p}`), `${problems.length} contract problem(s)`],
        );
        return problems.length === 0 ? EXIT.ok : EXIT.block;
      }),
    );
  group
    .command('snapshot')
    .description('publishes the current schemas; refuses a breaking change (exit 3)')
    .option('--accept-breaking', 'only for a version nobody has consumed yet')
    .action(
      act(ctx, (o: { acceptBreaking?: boolean }) => {
        const status = versionStatus(s.producedVersion, s.productionSwitches);
        const breaches = checkSnapshots(s.catalog, readSnapshots(s.snapshotsDir), status).filter(
          (p) => p.kind === 'breach' || p.kind === 'withdrawn',
        );
        if (breaches.length > 0 && !o.acceptBreaking)
          throw new CliError(
            `${breaches.map((p) => `✗ ${p.message}`).join('\n')}\nrefusing to snapshot a breaking change: publish a new version instead (or --accept-breaking for a version no one consumes yet)`,
            EXIT.block,
          );
        const changed = writeSnapshots(s.snapshotsDir, s.catalog);
        ctx.emit({ published: changed }, () => [
          changed.length > 0 ? `published ${changed.join(', ')}` : 'snapshots already up to date',
        ]);
      }),
    );
  group
    .command('docs')
    .description('regenerates events/CATALOG.md and events/catalog.schema.json')
    .action(
      act(ctx, () => {
        const written = generatedArtefacts();
        for (const { path, text } of written) writeFileSync(path, text);
        const paths = written.map(({ path }) => relative(process.cwd(), path));
        ctx.emit({ written: paths }, () => [`wrote ${paths.join(' and ')}`]);
      }),
    );
}
