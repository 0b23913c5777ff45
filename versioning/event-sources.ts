import { join } from 'node:path';
import { consumerContracts } from '../consumers/declared-reads';
import { catalog, producedVersion } from '../events/catalog';
import { upcasters } from '../events/catalog/upcasters';

/** Where the project's contract sources and generated artefacts live, for the CLI and the tests. */
const here = join(__dirname, '..', 'events');

export const eventSources = {
  catalog,
  producedVersion: producedVersion as Readonly<Record<string, number>>,
  upcasters,
  contracts: consumerContracts,
  snapshotsDir: join(here, 'snapshots'),
  examplesDir: join(here, 'examples'),
  catalogPage: join(here, 'CATALOG.md'),
  catalogSchema: join(here, 'catalog.schema.json'),
};
