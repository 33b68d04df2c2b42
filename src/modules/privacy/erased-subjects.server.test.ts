import { afterAll, describe } from 'vitest';
import { openPostgresStateStore } from '../../storage/index.ts';
import type { StateStore } from '../../storage/ports.ts';
import { createTestPgSchema, requirePgUrl, type TestPgSchema } from '../../storage/testing.ts';
import { erasedSubjectsContract } from './erased-subjects.contract.ts';

describe('subjects erased lately (PostgreSQL)', () => {
  const url = requirePgUrl();
  const opened: { store: StateStore; schema: TestPgSchema }[] = [];
  afterAll(async () => {
    for (const o of opened) {
      await o.store.close();
      await o.schema.drop();
    }
  });
  erasedSubjectsContract(async () => {
    const schema = await createTestPgSchema(url);
    const store = await openPostgresStateStore({ url, schema: schema.schema });
    opened.push({ store, schema });
    return store;
  });
});
