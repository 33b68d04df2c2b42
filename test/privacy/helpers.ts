/** A real installation in a temp directory, driven over HTTP the way a shop and a shopper would. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../src/kernel/clock.ts';
import { testConfig } from '../../src/kernel/config.ts';
import { createLogger } from '../../src/kernel/logger.ts';
import { createCandor, type Candor } from '../../src/server/index.ts';
import { makeTempDir, type TempDir } from '../../src/storage/testing.ts';
import { signShopperToken, type AuthModule } from '../../src/modules/auth/index.ts';
import type { PrivacyModule } from '../../src/modules/privacy/index.ts';
import type { ProfilesModule } from '../../src/modules/profiles/index.ts';

export type Shop = {
  dir: TempDir;
  logFile: string;
  candor: Candor;
  writeKey: string;
  privacy: PrivacyModule;
  profiles: ProfilesModule;
  call(method: string, url: string, init?: { body?: unknown; auth?: string }): Promise<Response>;
  shopperToken(customerId: string): Promise<string>;
  track(body: Record<string, unknown>): Promise<void>;
  waitForEvents(n: number): Promise<void>;
  close(): Promise<void>;
};

export type ShopOptions = {
  clock?: Clock;
  /** Server mode: both stores on this PostgreSQL database, in this schema. */
  pg?: { url: string; schema: string };
  /** More configuration (an SMTP relay, the inline purge limit). */
  config?: Record<string, unknown>;
};

export async function openShop(
  dir: TempDir = makeTempDir('candor-privacy'),
  secrets?: Record<string, unknown>,
  options: ShopOptions = {},
): Promise<Shop> {
  const config = testConfig(path.join(dir.path, 'data'), {
    logLevel: 'info',
    ...(secrets ? { secrets } : {}),
    ...(options.pg ? { stateUrl: options.pg.url, eventsUrl: options.pg.url } : {}),
    ...options.config,
  });
  const logFile = path.join(dir.path, 'data', 'candor.log');
  const { pino } = await import('pino');
  const logger = createLogger({
    level: 'info',
    destination: pino.destination({ dest: logFile, sync: true, mkdir: true }),
  });
  const candor = await createCandor(config, {
    logger,
    jobs: false,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.pg ? { storeOptions: { pgSchema: options.pg.schema } } : {}),
  });
  const mod = <T>(name: string) => candor.modules.find((m) => m.name === name) as T;
  const auth = mod<AuthModule>('auth');
  const { writeKey } = await auth.keys.createSource(`web-${Date.now()}`, 'system:test');
  const basic = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
  const call = async (method: string, url: string, init: { body?: unknown; auth?: string } = {}) =>
    candor.app.request(url, {
      method,
      headers: {
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init.auth ? { authorization: init.auth } : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  return {
    dir,
    logFile,
    candor,
    writeKey,
    privacy: mod<PrivacyModule>('privacy'),
    profiles: mod<ProfilesModule>('profiles'),
    call,
    shopperToken: async (customerId) =>
      `Bearer ${await signShopperToken(config.secrets.shopperTokenSecret!, customerId, 900)}`,
    async track(body) {
      const type = (body.type as string | undefined) ?? 'track';
      const res = await call('POST', `/v1/${type}`, { body, auth: basic });
      if (res.status >= 300) throw new Error(`${type} answered ${res.status}: ${await res.text()}`);
    },
    async waitForEvents(n) {
      for (let i = 0; i < 400; i++) {
        if ((await candor.stores.events.count()) >= n) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(
        `the event store never reached ${n} events (has ${await candor.stores.events.count()})`,
      );
    },
    close: () => candor.close(),
  };
}

/** Every file under a directory, recursively (SQLite, its WAL and SHM, DuckDB and its WAL, logs). */
export function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

/** Which of the needles occur, in UTF-8 or UTF-16LE, in which files. */
export function scanFor(dir: string, needles: readonly string[]): { file: string; needle: string }[] {
  const hits: { file: string; needle: string }[] = [];
  for (const file of allFiles(dir)) {
    const bytes = readFileSync(file);
    for (const needle of needles) {
      if (bytes.includes(Buffer.from(needle, 'utf8')) || bytes.includes(Buffer.from(needle, 'utf16le')))
        hits.push({ file: path.basename(file), needle });
    }
  }
  return hits;
}
