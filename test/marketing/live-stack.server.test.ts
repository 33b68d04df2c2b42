import { createTestPgSchema, requirePgUrl } from '../../src/storage/testing.ts';
import { liveStackContract } from './live-stack.contract.testkit.ts';

liveStackContract('PostgreSQL', async () => {
  const url = requirePgUrl();
  const schema = await createTestPgSchema(url);
  return { pg: { url, schema: schema.schema }, drop: () => schema.drop() };
});
