import { openPostgresEventStore, openPostgresStateStore } from '../../storage/index.ts';
import { createTestPgSchema, requirePgUrl } from '../../storage/testing.ts';
import { catchUpContract } from './catch-up.contract.testkit.ts';

catchUpContract('PostgreSQL', async () => {
  const url = requirePgUrl();
  const schema = await createTestPgSchema(url);
  const state = await openPostgresStateStore({ url, schema: schema.schema });
  const events = await openPostgresEventStore({ url, schema: schema.schema });
  return {
    state,
    events,
    async close() {
      await events.close();
      await state.close();
      await schema.drop();
    },
  };
});
