import { openPostgresStateStore } from '../../storage/index.ts';
import { createTestPgSchema, requirePgUrl } from '../../storage/testing.ts';
import { experimentsContract } from './experiments.contract.testkit.ts';
import { openMarketingHarness } from './marketing.testkit.ts';

experimentsContract('PostgreSQL', async () => {
  const url = requirePgUrl();
  const schema = await createTestPgSchema(url);
  const state = await openPostgresStateStore({ url, schema: schema.schema });
  return openMarketingHarness(state, () => schema.drop());
});
