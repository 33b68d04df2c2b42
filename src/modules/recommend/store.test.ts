import path from 'node:path';
import { testConfig } from '../../kernel/config.ts';
import { openStores } from '../../storage/open-stores.ts';
import { makeTempDir } from '../../storage/testing.ts';
import { recommendStoreContract } from './store.contract.testkit.ts';

recommendStoreContract('SQLite + DuckDB', async () => {
  const dir = makeTempDir('candor-recommend-store');
  const stores = await openStores(testConfig(path.join(dir.path, 'data')));
  return {
    state: stores.state,
    events: stores.events,
    async close() {
      await stores.close();
      dir.cleanup();
    },
  };
});
