import { testConfig } from '../../src/kernel/config.ts';
import { silentLogger } from '../../src/kernel/logger.ts';
import { createCandor } from '../../src/server/index.ts';
import { createTestPgSchema, makeTempDir, requirePgUrl } from '../../src/storage/testing.ts';
import { allowAllGuards } from './helpers.ts';
import { catalogContract } from './catalog.contract.ts';
import type { CatalogModule } from '../../src/modules/catalog/index.ts';

async function openPostgres() {
  const url = requirePgUrl();
  const schema = await createTestPgSchema(url);
  const dir = makeTempDir('candor-catalog-pg');
  const candor = await createCandor(testConfig(dir.path, { stateUrl: url, eventsUrl: url }), {
    guards: allowAllGuards,
    logger: silentLogger(),
    jobs: false,
    storeOptions: { pgSchema: schema.schema },
  });
  const catalog = candor.modules.find((m) => m.name === 'catalog') as CatalogModule;
  return {
    app: candor.app,
    service: catalog.service,
    close: async () => {
      await candor.close();
      await schema.drop();
      dir.cleanup();
    },
  };
}

catalogContract('PostgreSQL', openPostgres);
