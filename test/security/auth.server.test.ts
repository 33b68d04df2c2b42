import { createTestPgSchema, requirePgUrl } from '../../src/storage/testing.ts';
import { authContract, openAuthProcess, sharedClock, sharedSecrets } from './auth.contract.testkit.ts';

// Two processes of one installation on one PostgreSQL schema (fails, never skips, without CANDOR_TEST_PG_URL).
authContract('PostgreSQL, two processes', async () => {
  const url = requirePgUrl();
  const schema = await createTestPgSchema(url);
  const clock = sharedClock();
  const secrets = sharedSecrets();
  const pg = { url, schema: schema.schema };
  const a = await openAuthProcess({ clock, secrets, pg });
  const b = await openAuthProcess({ clock, secrets, pg });
  return {
    a,
    b,
    close: async () => {
      await a.close();
      await b.close();
      await schema.drop();
    },
  };
});
