import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../kernel/config.ts';
import { makeEvent } from './contract/event-store.contract.ts';
import { jobsMigrations } from './jobs/jobs.migrations.ts';
import { openStores } from './open-stores.ts';
import { assertTestDatabase, makeTempDir } from './testing.ts';

describe('openStores', () => {
  it('opens SQLite and DuckDB in a new data directory by default, and they keep their data', async () => {
    const dir = makeTempDir('candor-stores');
    const dataDir = path.join(dir.path, 'data');
    try {
      const stores = await openStores(testConfig(dataDir));
      expect(stores.state.dialect).toBe('sqlite');
      expect(stores.events.dialect).toBe('duckdb');
      await stores.state.migrate(jobsMigrations);
      await stores.jobs.enqueue('hello', {});
      await stores.events.append([makeEvent(1)]);
      await stores.close();
      expect(existsSync(path.join(dataDir, 'state.sqlite'))).toBe(true);
      expect(existsSync(path.join(dataDir, 'events.duckdb'))).toBe(true);
      const again = await openStores(testConfig(dataDir));
      expect((await again.jobs.counts()).queued).toBe(1);
      expect(await again.events.count()).toBe(1);
      await again.close();
    } finally {
      dir.cleanup();
    }
  });

  it('refuses a store URL that is not PostgreSQL, saying what to do', async () => {
    const dir = makeTempDir('candor-stores');
    try {
      await expect(openStores(testConfig(dir.path, { stateUrl: 'mysql://x/y' }))).rejects.toMatchObject({
        code: 'config_invalid',
        message: expect.stringContaining('postgres://'),
      });
    } finally {
      dir.cleanup();
    }
  });
});

describe('test database guard', () => {
  it('accepts only databases whose name contains "test"', () => {
    expect(() => assertTestDatabase('postgres://u@h:5432/candor')).toThrow(/does not contain "test"/);
    expect(() => assertTestDatabase('postgres://u@h:5432/candor_test')).not.toThrow();
  });
});
