import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { describeJobsContract } from '../../contract/jobs.contract.ts';
import { describeStateStoreContract, type StateStoreFixture } from '../../contract/state-store.contract.ts';
import { makeTempDir } from '../../testing.ts';
import { openSqliteStateStore } from './sqlite.state-store.ts';

async function openFixture(): Promise<StateStoreFixture> {
  const dir = makeTempDir('candor-sqlite');
  const store = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
  return {
    store,
    // One process owns the embedded data directory, so its workers share its one connection.
    reopen: async () => store,
    cleanup: async () => {
      await store.close();
      dir.cleanup();
    },
  };
}

describeStateStoreContract('sqlite', openFixture);
describeJobsContract('sqlite', openFixture);

describe('SQLite state store settings', () => {
  it('opens in WAL mode with synchronous=FULL and foreign keys enforced, and keeps data across reopen', async () => {
    const dir = makeTempDir('candor-sqlite');
    const file = path.join(dir.path, 'nested', 'state.sqlite');
    try {
      const store = await openSqliteStateStore({ file });
      const pragma = async (name: string) =>
        Object.values(
          (await sql<Record<string, unknown>>`pragma ${sql.raw(name)}`.execute(store.db)).rows[0] ?? {},
        )[0];
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('synchronous')).toBe(2);
      expect(await pragma('foreign_keys')).toBe(1);
      await store.migrate({
        'test-0001-t': {
          async up(db) {
            await db.schema.createTable('t').addColumn('v', 'text').execute();
          },
        },
      });
      await store.db.insertInto('t').values({ v: 'kept' }).execute();
      await store.close();
      const again = await openSqliteStateStore({ file });
      expect(await again.db.selectFrom('t').selectAll().execute()).toEqual([{ v: 'kept' }]);
      await again.close();
    } finally {
      dir.cleanup();
    }
  });
});

describe('SQLite migrations across processes', () => {
  it('applies each migration once when several processes migrate the same file together', async () => {
    const dir = makeTempDir('candor-sqlite-procs');
    const file = path.join(dir.path, 'state.sqlite');
    const storeModule = fileURLToPath(new URL('./sqlite.state-store.ts', import.meta.url));
    const script = `
      const { openSqliteStateStore } = await import(${JSON.stringify(storeModule)});
      const s = await openSqliteStateStore({ file: ${JSON.stringify(file)} });
      const step = (name) => ({ async up(db) {
        await db.schema.createTable('seen_' + name).addColumn('pid', 'integer').execute();
        await db.insertInto('seen_' + name).values({ pid: process.pid }).execute();
        // Slow enough that the processes' migrations overlap.
        await new Promise((r) => setTimeout(r, 300));
      } });
      const r = await s.migrate({ 'test-0001-a': step('a'), 'test-0002-b': step('b') });
      process.stdout.write(JSON.stringify(r.applied));
      await s.close();`;
    const run = () =>
      new Promise<string[]>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.once('exit', (code) =>
          code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(err)),
        );
      });
    try {
      const results = await Promise.all([run(), run(), run()]);
      expect(results.flat().sort()).toEqual(['test-0001-a', 'test-0002-b']);
      const store = await openSqliteStateStore({ file });
      expect(await store.db.selectFrom('seen_a').selectAll().execute()).toHaveLength(1);
      expect(await store.db.selectFrom('seen_b').selectAll().execute()).toHaveLength(1);
      await store.close();
    } finally {
      dir.cleanup();
    }
  });
});

describe('SQLite background writes', () => {
  it('commits each statement off the serving thread, in order; a failing one rejects and the next still run', async () => {
    const dir = makeTempDir('candor-sqlite-bg');
    const file = path.join(dir.path, 'state.sqlite');
    try {
      const store = await openSqliteStateStore({ file });
      await store.db.schema
        .createTable('c')
        .addColumn('k', 'text', (c) => c.primaryKey())
        .addColumn('n', 'integer')
        .execute();
      const upsert = (k: string, n: number) => ({
        sql: 'insert into c (k, n) values (?, ?) on conflict (k) do update set n = c.n + excluded.n',
        parameters: [k, n],
      });
      const writes = store.backgroundWrites!;
      await writes.run([upsert('a', 1), upsert('a', 2), upsert('b', 5)]);
      // Visible to the main connection as soon as the call resolves.
      expect(await store.db.selectFrom('c').selectAll().orderBy('k').execute()).toEqual([
        { k: 'a', n: 3 },
        { k: 'b', n: 5 },
      ]);
      // Each statement commits on its own: the one before the failure stays, the one after is not run.
      await expect(
        writes.run([
          upsert('a', 10),
          { sql: 'insert into missing_table values (1)', parameters: [] },
          upsert('b', 1),
        ]),
      ).rejects.toMatchObject({ code: 'store_error', message: expect.stringMatching(/missing_table/) });
      await writes.run([upsert('b', 1)]);
      expect(await store.db.selectFrom('c').selectAll().orderBy('k').execute()).toEqual([
        { k: 'a', n: 13 },
        { k: 'b', n: 6 },
      ]);
      // Closing waits for writes in flight; they are in the file on reopen.
      const late = writes.run(Array.from({ length: 500 }, (_, i) => upsert(`z${i}`, i)));
      await store.close();
      await late;
      const again = await openSqliteStateStore({ file });
      expect(
        await again.db
          .selectFrom('c')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirst(),
      ).toEqual({
        n: 502,
      });
      await again.close();
    } finally {
      dir.cleanup();
    }
  });
});
