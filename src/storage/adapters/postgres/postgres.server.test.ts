import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { describeEventStoreContract } from '../../contract/event-store.contract.ts';
import { makeEvent } from '../../contract/event-store.contract.ts';
import { describeJobsContract } from '../../contract/jobs.contract.ts';
import { describeStateStoreContract, type StateStoreFixture } from '../../contract/state-store.contract.ts';
import { createTestPgSchema, requirePgUrl } from '../../testing.ts';
import { openPostgresEventStore } from './postgres.event-store.ts';
import { openPostgresStateStore } from './postgres.state-store.ts';

// Fails (never skips) when CANDOR_TEST_PG_URL is missing.
const url = requirePgUrl();

async function openStateFixture(): Promise<StateStoreFixture> {
  const schema = await createTestPgSchema(url);
  const store = await openPostgresStateStore({ url, schema: schema.schema });
  return {
    store,
    reopen: () => openPostgresStateStore({ url, schema: schema.schema }),
    cleanup: async () => {
      await store.close();
      await schema.drop();
    },
  };
}

describeStateStoreContract('postgres', openStateFixture);
describeJobsContract('postgres', openStateFixture);
describeEventStoreContract('postgres', async () => {
  const schema = await createTestPgSchema(url);
  const store = await openPostgresEventStore({ url, schema: schema.schema });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await schema.drop();
    },
  };
});

describe('PostgreSQL event store partitions', () => {
  it('creates one partition per month on demand, also when writers race', async () => {
    const schema = await createTestPgSchema(url);
    const a = await openPostgresEventStore({ url, schema: schema.schema });
    const b = await openPostgresEventStore({ url, schema: schema.schema });
    try {
      const jan = Date.UTC(2029, 0, 15);
      const mar = Date.UTC(2029, 2, 31, 23, 59);
      const batch = (offset: number) => [
        makeEvent(offset + 1, { ts: jan }),
        makeEvent(offset + 2, { ts: mar }),
        makeEvent(offset + 3, { ts: Date.UTC(2029, 3, 1) }),
      ];
      const results = await Promise.all([a.append(batch(0)), b.append(batch(10)), a.append(batch(0))]);
      expect(results.reduce((s, r) => s + r.inserted, 0)).toBe(6);
      const parts = await sql<{ name: string }>`
        SELECT c.relname AS name FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_class p ON p.oid = i.inhparent
        JOIN pg_namespace n ON n.oid = p.relnamespace
        WHERE p.relname = 'events' AND n.nspname = ${schema.schema}
        ORDER BY 1`.execute(a.db);
      expect(parts.rows.map((p) => p.name)).toEqual(['events_p202901', 'events_p202903', 'events_p202904']);
    } finally {
      await a.close();
      await b.close();
      await schema.drop();
    }
  });
});

describe('test database guard', () => {
  it('refuses to create schemas in a database whose name lacks "test"', async () => {
    const prod = new URL(url);
    prod.pathname = '/candor';
    await expect(createTestPgSchema(prod.toString())).rejects.toThrow(/does not contain "test"/);
  });
});
