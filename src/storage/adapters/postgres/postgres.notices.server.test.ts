/**
 * Change notices between processes sharing a PostgreSQL state store: delivered at commit to every listener
 * of the same schema (the sender's own too), never for a rolled-back transaction, never across schemas.
 */
import { afterEach, expect, it } from 'vitest';
import { createTestPgSchema, requirePgUrl, type TestPgSchema } from '../../testing.ts';
import type { StateStore } from '../../ports.ts';
import { openPostgresStateStore } from './postgres.state-store.ts';

const schemas: TestPgSchema[] = [];
const stores: StateStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const s of schemas.splice(0)) await s.drop();
});

async function open(schema: TestPgSchema) {
  const store = await openPostgresStateStore({ url: requirePgUrl(), schema: schema.schema });
  stores.push(store);
  const heard: string[] = [];
  let listening = false;
  await store.notices!.listen('things', {
    onNotice: (p) => heard.push(p),
    onListening: (l) => {
      listening = l;
    },
  });
  return { store, heard, listening: () => listening };
}

const settle = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
};

it('delivers committed notices to every process of the schema, and nothing rolled back or elsewhere', async () => {
  const url = requirePgUrl();
  const one = await createTestPgSchema(url);
  const other = await createTestPgSchema(url);
  schemas.push(one, other);
  const a = await open(one);
  const b = await open(one);
  const c = await open(other);
  expect([a.listening(), b.listening(), c.listening()]).toEqual([true, true, true]);

  await a.store.transaction((trx) => a.store.notices!.notify(trx, 'things', 'committed'));
  await a.store
    .transaction(async (trx) => {
      await a.store.notices!.notify(trx, 'things', 'rolled back');
      throw new Error('abort');
    })
    .catch(() => undefined);
  await a.store.transaction((trx) => a.store.notices!.notify(trx, 'things', 'second'));
  await settle(() => a.heard.length >= 2 && b.heard.length >= 2);
  expect(a.heard).toEqual(['committed', 'second']);
  expect(b.heard).toEqual(['committed', 'second']);
  expect(c.heard).toEqual([]);
  await expect(
    a.store.transaction((trx) => a.store.notices!.notify(trx, 'things', 'x'.repeat(8_000))),
  ).rejects.toThrow(/limited to 7000 bytes/);
});
