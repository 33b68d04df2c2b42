import { openPostgresEventStore } from '../../storage/index.ts';
import { createTestPgSchema, requirePgUrl } from '../../storage/testing.ts';
import { describeInsights } from './insights.contract.testkit.ts';

describeInsights('PostgreSQL', async () => {
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
