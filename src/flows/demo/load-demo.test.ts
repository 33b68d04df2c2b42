import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { MiddlewareHandler } from 'hono';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { createPseudonymizer } from '../../kernel/crypto.ts';
import type { AppEnv, Guards } from '../../kernel/http.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { createCatalogModule, type CatalogModule } from '../../modules/catalog/index.ts';
import {
  openDuckDbEventStore,
  openSqliteStateStore,
  type EventStore,
  type StateStore,
} from '../../storage/index.ts';
import { makeTempDir, type TempDir } from '../../storage/testing.ts';
import { createDirectEventWriter } from './direct-event-writer.ts';
import { generateShoppers } from './generator.ts';
import { loadDemoShop, type DemoProgress } from './load-demo.ts';

const OPTIONS = {
  seed: 11,
  shoppers: 150,
  days: 10,
  products: 300,
  start: '2025-02-01T00:00:00.000Z',
} as const;

// The catalog module's routes are not exercised here; its guards only have to exist.
const refuse: MiddlewareHandler<AppEnv> = async (c) =>
  c.json({ error: { code: 'forbidden', message: 'not in this test', requestId: '' } }, 403);
const guards: Guards = { staff: () => refuse, shopper: refuse, writeKey: refuse };

describe('loadDemoShop through the direct event writer', () => {
  let dir: TempDir;
  let state: StateStore;
  let events: EventStore;
  let catalog: CatalogModule;
  const pseudonymize = createPseudonymizer(randomBytes(32).toString('base64'));
  const progress: DemoProgress[] = [];
  let result: Awaited<ReturnType<typeof loadDemoShop>>;
  let writer: ReturnType<typeof createDirectEventWriter>;

  beforeAll(async () => {
    dir = makeTempDir('candor-demo');
    state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
    events = await openDuckDbEventStore({ file: path.join(dir.path, 'events.duckdb') });
    catalog = createCatalogModule({
      state,
      guards,
      logger: silentLogger(),
      clock: fixedClock('2025-02-01T00:00:00Z'),
    });
    await state.migrate(catalog.migrations ?? {});
    writer = createDirectEventWriter({ events, pseudonymize });
    result = await loadDemoShop(
      {
        upsertCategories: (c) => catalog.service.upsertCategories(c),
        upsertProducts: (p) => catalog.service.upsertProducts(p),
        submit: (calls) => writer.submit(calls),
      },
      { ...OPTIONS, batchSize: 2000 },
      (p) => progress.push(p),
    );
  });

  afterAll(async () => {
    await events?.close();
    await state?.close();
    dir?.cleanup();
  });

  it('loads the catalogue into the catalog module in three languages', async () => {
    expect(result.catalog).toEqual({ categories: 46, products: 300 });
    const categories = await catalog.service.listCategories();
    expect(categories).toHaveLength(46);
    const product = await catalog.service.getProduct('p000001');
    expect(product?.currency).toBe('IDR');
    expect(product?.categoryPath).toHaveLength(2);
    expect(product?.title.en).toBeTruthy();
    expect(product?.title.id).toBeTruthy();
    expect(product?.title.zh).toMatch(/\p{Script=Han}/u);
  });

  it('stores every consented browser event, once, and accounts for every other call', async () => {
    const stats = writer.stats();
    expect(stats.stored).toBeGreaterThan(1500);
    expect(await events.count()).toBe(stats.stored);
    expect(stats.stored + stats.duplicates + stats.droppedNoConsent + stats.notEvents).toBe(result.calls);
    expect(stats.droppedNoConsent).toBeGreaterThan(0);
    const types = await events.db.selectFrom('events').select('type').distinct().execute();
    expect(types.map((t) => t.type).sort()).toEqual(
      expect.arrayContaining([
        'add_to_cart',
        'order_completed',
        'page_leave',
        'page_view',
        'product_view',
        'search',
        'search_click',
      ]),
    );
    const revenue = await events.db
      .selectFrom('events')
      .select(sql<number>`sum(revenue)`.as('r'))
      .where('type', '=', 'order_completed')
      .executeTakeFirstOrThrow();
    expect(Number(revenue.r)).toBeGreaterThan(0);
  });

  it('stores nothing of shoppers who refused analytics, and no identifier in the clear', async () => {
    const refused = new Set<string>();
    const raw = new Set<string>();
    for (const c of generateShoppers(OPTIONS)) {
      if (c.kind === 'consent' && !c.body.purposes.analytics && c.body.method === 'banner')
        refused.add(c.body.anonymousId);
      if (c.kind !== 'consent') raw.add(c.body.anonymousId);
    }
    expect(refused.size).toBeGreaterThan(5);
    const devices = [...refused].map((id) => pseudonymize('device', id));
    const theirs = await events.db
      .selectFrom('events')
      .select('event_id')
      .where('anonymous_id', 'in', devices)
      .execute();
    expect(theirs).toEqual([]);

    const rows = await events.db.selectFrom('events').selectAll().execute();
    const text = rows.map((r) => JSON.stringify(r)).join('\n');
    for (const needle of [
      '@example.test',
      '+62 800',
      '192.0.2.',
      '198.51.100.',
      '203.0.113.',
      '2001:db8:',
      'cus_',
    ]) {
      expect(text).not.toContain(needle);
    }
    const leaked = rows.filter(
      (r) => raw.has(r.subject_id) || (r.anonymous_id !== null && raw.has(r.anonymous_id)),
    );
    expect(leaked).toEqual([]);
    expect(rows.every((r) => r.purpose === 'analytics' && r.consent_id !== null)).toBe(true);
  });

  it('reports progress through every phase, ending with all shoppers done', () => {
    expect(progress.map((p) => p.phase)).toEqual(
      expect.arrayContaining(['categories', 'products', 'shoppers', 'done']),
    );
    const shoppers = progress.filter((p) => p.phase === 'shoppers');
    expect(shoppers.at(-1)).toEqual({ phase: 'shoppers', done: 150, total: 150 });
    const done = shoppers.map((p) => p.done);
    expect([...done].sort((a, b) => a - b)).toEqual(done);
  });

  it('loading the same shop again adds nothing (event ids are deterministic)', async () => {
    const before = await events.count();
    const again = createDirectEventWriter({ events, pseudonymize });
    await loadDemoShop(
      {
        upsertCategories: async () => undefined,
        upsertProducts: async () => undefined,
        submit: (calls) => again.submit(calls),
      },
      OPTIONS,
    );
    expect(again.stats().stored).toBe(0);
    expect(again.stats().duplicates).toBe(before);
    expect(await events.count()).toBe(before);
  });
});
