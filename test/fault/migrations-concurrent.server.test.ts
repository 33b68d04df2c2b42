/**
 * Issue 12: several processes starting together on an empty PostgreSQL schema apply every migration
 * exactly once between them (the advisory lock of the migrator), and all of them start.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSecrets } from '../../src/kernel/config.ts';
import {
  createTestPgSchema,
  makeTempDir,
  requirePgUrl,
  type TestPgSchema,
} from '../../src/storage/testing.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');
const url = requirePgUrl();
let schema: TestPgSchema | undefined;
afterEach(async () => {
  await schema?.drop();
});

function migrate(env: Record<string, string | undefined>, dataDir: string) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [MAIN, '--data-dir', dataDir, '--json', 'migrate'], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('migrations with processes starting together', () => {
  it('apply each migration once across three concurrent processes', async () => {
    schema = await createTestPgSchema(url);
    const s = generateSecrets();
    const data = makeTempDir('candor-migrate');
    const env = {
      ...process.env,
      CANDOR_ENV: 'test',
      CANDOR_LOG_LEVEL: 'warn',
      CANDOR_STATE_URL: url,
      CANDOR_EVENTS_URL: url,
      CANDOR_PG_SCHEMA: schema.schema,
      CANDOR_KEK: s.kek,
      CANDOR_PSEUDONYM_KEY: s.pseudonymKey,
      CANDOR_SESSION_SECRET: s.sessionSecret,
      CANDOR_SHOPPER_TOKEN_SECRET: s.shopperTokenSecret,
      CANDOR_SIGNING_KEY: s.signingKey,
    };
    try {
      const runs = await Promise.all([1, 2, 3].map(() => migrate(env, data.path)));
      for (const r of runs) expect(r.code, r.err).toBe(0);
      const applied = runs.flatMap((r) => (JSON.parse(r.out) as { applied: string[] }).applied);
      expect(applied.length).toBeGreaterThan(5);
      expect(new Set(applied).size).toBe(applied.length);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const rows = await client.query<{ name: string }>(
          `SELECT name FROM "${schema.schema}".candor_migrations ORDER BY name`,
        );
        expect(rows.rows.map((r) => r.name).sort()).toEqual([...applied].sort());
      } finally {
        await client.end();
      }
    } finally {
      data.cleanup();
    }
  });
});
