import { openPostgresEventStore } from '../../storage/index.ts';
import { createTestPgSchema, requirePgUrl } from '../../storage/testing.ts';
import { describeQueryContract } from './queries.contract.testkit.ts';

describeQueryContract('PostgreSQL', async () => {
  const url = requirePgUrl();
  const schema = await createTestPgSchema(url);
  const events = await openPostgresEventStore({ url, schema: schema.schema });
  return {
    events,
    async close() {
      await events.close();
      await schema.drop();
    },
  };
});
