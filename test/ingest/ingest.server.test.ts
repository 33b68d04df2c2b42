import { generateSecrets } from '../../src/kernel/config.ts';
import { createTestPgSchema, makeTempDir, requirePgUrl } from '../../src/storage/testing.ts';
import { openShop } from '../privacy/helpers.ts';
import { ingestContract } from './ingest.contract.testkit.ts';

// Two processes of one installation, both stores on one PostgreSQL schema (fails, never skips, without
// CANDOR_TEST_PG_URL). Ingestion commits to PostgreSQL directly here; the stream path has test/fault.
ingestContract('PostgreSQL, two processes', async () => {
  const url = requirePgUrl();
  const schema = await createTestPgSchema(url);
  const secrets = generateSecrets();
  const pg = { url, schema: schema.schema };
  const a = await openShop(makeTempDir('candor-ingest-pg-a'), secrets, { pg });
  const b = await openShop(makeTempDir('candor-ingest-pg-b'), secrets, { pg });
  return {
    a,
    b,
    close: async () => {
      await a.close();
      await b.close();
      a.dir.cleanup();
      b.dir.cleanup();
      await schema.drop();
    },
  };
});
