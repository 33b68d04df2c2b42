import { describe, expect, it } from 'vitest';
import { testConfig } from '../../src/kernel/config.ts';
import { silentLogger } from '../../src/kernel/logger.ts';
import { createCandor } from '../../src/server/index.ts';
import { makeTempDir } from '../../src/storage/testing.ts';
import { allowAllGuards } from './helpers.ts';
import { catalogContract } from './catalog.contract.ts';
import type { CatalogModule } from '../../src/modules/catalog/index.ts';

async function openSqlite() {
  const dir = makeTempDir('candor-catalog');
  const candor = await createCandor(testConfig(dir.path), {
    guards: allowAllGuards,
    logger: silentLogger(),
    jobs: false,
  });
  const catalog = candor.modules.find((m) => m.name === 'catalog') as CatalogModule;
  return {
    app: candor.app,
    service: catalog.service,
    close: async () => {
      await candor.close();
      dir.cleanup();
    },
  };
}

catalogContract('SQLite', openSqlite);

describe('catalog writes without authentication', () => {
  it('are refused with 401 without a staff session, and store nothing', async () => {
    const dir = makeTempDir('candor-catalog-auth');
    const candor = await createCandor(testConfig(dir.path), { logger: silentLogger(), jobs: false });
    try {
      const res = await candor.app.request('/v1/catalog/products', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ products: [{ id: 'A', title: { en: 'A' }, price: 1, currency: 'USD' }] }),
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      expect((await candor.app.request('/v1/catalog/products/A')).status).toBe(404);
    } finally {
      await candor.close();
      dir.cleanup();
    }
  });
});
