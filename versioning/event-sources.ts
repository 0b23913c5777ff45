import { join } from 'node:path';
import { consumerContracts } from '../consumers/declared-reads';
import packageJson from '../package.json';
import { catalog, producedVersion, productionSwitches } from '../events/catalog';
import { releaseOf, type ProductionSwitches } from '../events/production';
import { upcasters } from '../events/catalog/upcasters';

/** Where the project's contract sources and generated artefacts live, for the CLI and the tests. */
const here = join(__dirname, '..', 'events');

export const eventSources = {
  catalog,
  producedVersion: producedVersion as Readonly<Record<string, number>>,
  productionSwitches: productionSwitches as ProductionSwitches,
  /** The release being built, from the package version (`1.1.0` → `1.1`). */
  currentRelease: releaseOf(packageJson.version),
  upcasters,
  contracts: consumerContracts,
  snapshotsDir: join(here, 'snapshots'),
  examplesDir: join(here, 'examples'),
  catalogPage: join(here, 'CATALOG.md'),
  catalogSchema: join(here, 'catalog.schema.json'),
};
