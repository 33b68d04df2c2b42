/**
 * The state-store contract: every StateStore adapter runs exactly this code (sqlite.test.ts,
 * postgres.server.test.ts). A fixture gives a store and, for concurrency, a second handle on the same
 * database (another pool on PostgreSQL; the owning process's one connection on SQLite).
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { columnTypes, stateDialectOf, tablesOf } from '../column-types.ts';
import type { StateStore } from '../ports.ts';

export type StateStoreFixture = {
  store: StateStore;
  /** Another handle on the same database. */
  reopen(): Promise<StateStore>;
  cleanup(): Promise<void>;
};

type Tables = {
  things: { id: string; data: Uint8Array; doc: string; at: number; flag: number; score: number; n: number };
  counter: { id: string; value: number };
  seen: { name: string };
};

const thingsMigration: Migration = {
  async up(db) {
    const t = columnTypes(stateDialectOf(db));
    await db.schema
      .createTable('things')
      .addColumn('id', t.text, (c) => c.primaryKey())
      .addColumn('data', t.blob, (c) => c.notNull())
      .addColumn('doc', t.json, (c) => c.notNull())
      .addColumn('at', t.ts, (c) => c.notNull())
      .addColumn('flag', t.bool, (c) => c.notNull())
      .addColumn('score', t.real, (c) => c.notNull())
      .addColumn('n', t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('counter')
      .addColumn('id', t.text, (c) => c.primaryKey())
      .addColumn('value', t.bigint)
      .execute();
    await db.schema.createTable('seen').addColumn('name', t.text).execute();
  },
};

/** A migration with a visible side effect, so running it twice would show. */
function recordingMigration(name: string): Migration {
  return {
    async up(db) {
      await db.insertInto('seen').values({ name }).execute();
    },
  };
}

export function describeStateStoreContract(name: string, open: () => Promise<StateStoreFixture>): void {
  describe(`StateStore contract: ${name}`, () => {
    let fx: StateStoreFixture;
    let db: Kysely<Tables>;

    beforeEach(async () => {
      fx = await open();
      await fx.store.migrate({ 'contract-0001-things': thingsMigration });
      db = tablesOf<Tables>(fx.store);
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    it('applies a migration once: migrating again is a no-op', async () => {
      const first = await fx.store.migrate({ 'contract-0002-a': recordingMigration('a') });
      const second = await fx.store.migrate({ 'contract-0002-a': recordingMigration('a') });
      expect(first.applied).toEqual(['contract-0002-a']);
      expect(second.applied).toEqual([]);
      expect(await db.selectFrom('seen').select('name').execute()).toEqual([{ name: 'a' }]);
    });

    it('keeps one migration table for all modules: each call brings only its own migrations', async () => {
      await fx.store.migrate({ 'contract-0003-b': recordingMigration('b') });
      const other = await fx.store.migrate({ 'other-0001-c': recordingMigration('c') });
      expect(other.applied).toEqual(['other-0001-c']);
      const names = (await db.selectFrom('seen').select('name').orderBy('name').execute()).map((r) => r.name);
      expect(names).toEqual(['b', 'c']);
    });

    it('applies each migration exactly once when two processes migrate together', async () => {
      const second = await fx.reopen();
      try {
        const set = {
          'contract-0004-x': recordingMigration('x'),
          'contract-0005-y': recordingMigration('y'),
        };
        const [a, b] = await Promise.all([fx.store.migrate(set), second.migrate(set)]);
        expect([...a.applied, ...b.applied].sort()).toEqual(['contract-0004-x', 'contract-0005-y']);
        const names = (await db.selectFrom('seen').select('name').orderBy('name').execute()).map(
          (r) => r.name,
        );
        expect(names).toEqual(['x', 'y']);
      } finally {
        if (second !== fx.store) await second.close();
      }
    });

    it('reports a failing migration by name and applies nothing of that run', async () => {
      const broken: Migration = {
        async up(q) {
          await sql`select * from no_such_table`.execute(q);
        },
      };
      const error: unknown = await fx.store
        .migrate({ 'contract-0006-ok': recordingMigration('ok'), 'contract-0007-broken': broken })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toMatchObject({ code: 'store_error' });
      expect((error as Error).message).toContain('contract-0007-broken');
      expect(await db.selectFrom('seen').select('name').execute()).toEqual([]);
      const again = await fx.store.migrate({ 'contract-0006-ok': recordingMigration('ok') });
      expect(again.applied).toEqual(['contract-0006-ok']);
    });

    it('commits a transaction and rolls one back when it throws', async () => {
      await fx.store.transaction(async (trx) => {
        await trx.insertInto('counter').values({ id: 'kept', value: 1 }).execute();
      });
      await expect(
        fx.store.transaction(async (trx) => {
          await trx.insertInto('counter').values({ id: 'gone', value: 1 }).execute();
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      const ids = (await db.selectFrom('counter').select('id').execute()).map((r) => r.id);
      expect(ids).toEqual(['kept']);
    });

    it('round-trips blob, json, epoch-ms timestamps, booleans, reals and big integers', async () => {
      const data = new Uint8Array([0, 1, 2, 250, 255]);
      const doc = JSON.stringify({ title: { en: 'Tea', zh: '茶' }, tags: ['a'] });
      const at = Date.UTC(2031, 4, 6, 7, 8, 9, 123);
      await db
        .insertInto('things')
        .values({ id: 't1', data, doc, at, flag: 1, score: 0.125, n: Number.MAX_SAFE_INTEGER })
        .execute();
      const row = await db.selectFrom('things').selectAll().where('id', '=', 't1').executeTakeFirstOrThrow();
      expect(new Uint8Array(row.data)).toEqual(data);
      expect(JSON.parse(row.doc)).toEqual({ title: { en: 'Tea', zh: '茶' }, tags: ['a'] });
      expect(row.at).toBe(at);
      expect(row.flag).toBe(1);
      expect(row.score).toBe(0.125);
      expect(row.n).toBe(Number.MAX_SAFE_INTEGER);
    });

    it('loses no update when many writers increment one row concurrently', async () => {
      await db.insertInto('counter').values({ id: 'c', value: 0 }).execute();
      const second = await fx.reopen();
      try {
        const increment = (store: StateStore) =>
          store.transaction(async (trx) => {
            await trx
              .updateTable('counter')
              .set((eb) => ({ value: eb('value', '+', 1) }))
              .where('id', '=', 'c')
              .execute();
          });
        await Promise.all(Array.from({ length: 50 }, (_, i) => increment(i % 2 === 0 ? fx.store : second)));
        const row = await db
          .selectFrom('counter')
          .select('value')
          .where('id', '=', 'c')
          .executeTakeFirstOrThrow();
        expect(Number(row.value)).toBe(50);
      } finally {
        if (second !== fx.store) await second.close();
      }
    });

    it('answers ping while open', async () => {
      await expect(fx.store.ping()).resolves.toBeUndefined();
    });
  });
}
