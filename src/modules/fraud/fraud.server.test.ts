import { openPostgresStateStore } from '../../storage/index.ts';
import { createTestPgSchema, requirePgUrl } from '../../storage/testing.ts';
import { fraudContract } from './fraud.contract.testkit.ts';
import { openFraudHarness } from './fraud.testkit.ts';

fraudContract('PostgreSQL', async () => {
  const url = requirePgUrl();
  const schema = await createTestPgSchema(url);
  const state = await openPostgresStateStore({ url, schema: schema.schema });
  return openFraudHarness(state, () => schema.drop());
});
