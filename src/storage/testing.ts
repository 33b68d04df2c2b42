/**
 * Helpers for tests that use real stores: temporary data directories, and isolated PostgreSQL schemas that
 * can only ever be created and dropped in a database whose name says it is a test database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { testEnv } from '../kernel/config.ts';
import { openPostgresStateStore } from './adapters/postgres/postgres.state-store.ts';
import type { StateStore } from './ports.ts';

export type TempDir = { path: string; cleanup(): void };

/** A fresh directory under the OS temp dir; `cleanup()` removes it and everything in it. */
export function makeTempDir(prefix: string): TempDir {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${prefix.replace(/[^a-zA-Z0-9_-]/g, '-')}-`));
  return { path: dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** CANDOR_TEST_PG_URL, or an error that says how to provide it (server suites fail, never skip). */
export function requirePgUrl(): string {
  const { pgUrl } = testEnv();
  if (!pgUrl) {
    throw new Error(
      'CANDOR_TEST_PG_URL is not set. The server-mode suites need PostgreSQL: start it and run ' +
        'CANDOR_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test npm run test:server',
    );
  }
  return pgUrl;
}

/** Refuses any database whose name does not contain "test": destructive helpers never touch real data. */
export function assertTestDatabase(url: string): void {
  let name: string;
  try {
    name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  } catch {
    throw new Error('Refusing to use a PostgreSQL URL that cannot be parsed as a test database.');
  }
  if (!name.toLowerCase().includes('test')) {
    throw new Error(
      `Refusing to create or drop schemas in database "${name}": its name does not contain "test".`,
    );
  }
}

export type TestPgSchema = { schema: string; drop(): Promise<void> };

/** Creates a uniquely named schema in a test database; `drop()` removes it with everything in it. */
export async function createTestPgSchema(url: string): Promise<TestPgSchema> {
  assertTestDatabase(url);
  const schema = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await client.end();
  }
  return {
    schema,
    async drop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * PostgreSQL state stores for a contract run, each in a new schema of the test database (`open`);
 * `closeAll()` closes every one opened and drops its schema.
 */
export function testPgStateStores(url: string): {
  open(): Promise<StateStore>;
  closeAll(): Promise<void>;
} {
  const opened: { store: StateStore; schema: TestPgSchema }[] = [];
  return {
    async open() {
      const schema = await createTestPgSchema(url);
      const store = await openPostgresStateStore({ url, schema: schema.schema });
      opened.push({ store, schema });
      return store;
    },
    async closeAll() {
      for (const o of opened.splice(0)) {
        await o.store.close();
        await o.schema.drop();
      }
    },
  };
}
