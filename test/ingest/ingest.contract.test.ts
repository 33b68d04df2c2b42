import { openShop } from '../privacy/helpers.ts';
import { ingestContract } from './ingest.contract.testkit.ts';

// The embedded stores belong to one process: it answers for both sides of every exchange.
ingestContract('SQLite/DuckDB', async () => {
  const shop = await openShop();
  return {
    a: shop,
    b: shop,
    close: async () => {
      await shop.close();
      shop.dir.cleanup();
    },
  };
});
