/**
 * A real Candor (SQLite + DuckDB in a temp directory, every module wired by the composition root) with
 * one source, for black-box tests of consent and ingestion through `app.request()`.
 */
import { testConfig } from '../../src/kernel/config.ts';
import type { Clock } from '../../src/kernel/clock.ts';
import type { AuthModule } from '../../src/modules/auth/index.ts';
import type { ConsentModule } from '../../src/modules/consent/index.ts';
import type { IngestModule } from '../../src/modules/ingest/index.ts';
import { createCandor, type Candor } from '../../src/server/index.ts';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, type TempDir } from '../../src/storage/testing.ts';

export type Harness = {
  candor: Candor;
  dataDir: string;
  writeKey: string;
  sourceId: string;
  consent: ConsentModule;
  ingest: IngestModule;
  auth: AuthModule;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
};

/**
 * A temp dir in memory-backed /dev/shm when the machine has one: suites that commit tens of thousands of
 * transactions measure logic, not the disk's fsync latency (durability has its own fault test on disk).
 */
export function memoryTempDir(prefix: string): TempDir {
  if (!existsSync('/dev/shm')) return makeTempDir(prefix);
  const dir = mkdtempSync(path.join('/dev/shm', `${prefix}-`));
  return { path: dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startHarness(
  options: { clock?: Clock; dataDir?: string; inMemoryDisk?: boolean } = {},
): Promise<Harness> {
  const tmp =
    options.dataDir !== undefined
      ? null
      : options.inMemoryDisk
        ? memoryTempDir('candor-ingest')
        : makeTempDir('candor-ingest');
  const dataDir = options.dataDir ?? tmp!.path;
  const candor = await createCandor(testConfig(dataDir), {
    jobs: false,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const byName = (n: string) => candor.modules.find((m) => m.name === n)!;
  const auth = byName('auth') as AuthModule;
  const { sourceId, writeKey } = await auth.keys.createSource('web', 'system');
  const basic = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
  return {
    candor,
    dataDir,
    writeKey,
    sourceId,
    auth,
    consent: byName('consent') as ConsentModule,
    ingest: byName('ingest') as IngestModule,
    post: (path, body, headers = {}) =>
      Promise.resolve(
        candor.app.request(path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: basic, ...headers },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
      ),
    async close() {
      await candor.close();
      tmp?.cleanup();
    },
  };
}
