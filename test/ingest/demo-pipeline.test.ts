import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/kernel/config.ts';
import { createPseudonymizer } from '../../src/kernel/crypto.ts';
import type { CatalogModule } from '../../src/modules/catalog/index.ts';
import { createCandor, type Candor } from '../../src/server/index.ts';
import type { EventStore } from '../../src/storage/index.ts';
import { makeTempDir, type TempDir } from '../../src/storage/testing.ts';
import { loadDemoInto } from '../../src/cli/demo.command.ts';
import { generateShoppers } from '../../src/flows/demo/generator.ts';
import { defaultDemoStart, type DemoProgress } from '../../src/flows/demo/load-demo.ts';

// Inside ingestion's 30-day window and recent enough for the consent gate to judge at event time.
const OPTIONS = { seed: 11, shoppers: 150, days: 10, products: 300 } as const;
const quiet = { out: () => undefined, say: () => undefined };

describe('the demo shop through the consent ledger and the ingestion pipeline', () => {
  let dir: TempDir;
  let candor: Candor;
  let events: EventStore;
  let catalog: CatalogModule;
  let pseudonymize: ReturnType<typeof createPseudonymizer>;
  const progress: DemoProgress[] = [];
  let result: Awaited<ReturnType<typeof loadDemoInto>>;

  beforeAll(async () => {
    dir = makeTempDir('candor-demo');
    candor = await createCandor(testConfig(dir.path), { jobs: false });
    events = candor.stores.events;
    catalog = candor.modules.find((m) => m.name === 'catalog') as CatalogModule;
    pseudonymize = createPseudonymizer(candor.config.secrets.pseudonymKey ?? '');
    result = await loadDemoInto(candor, OPTIONS, quiet, (p) => progress.push(p));
  }, 120_000);

  afterAll(async () => {
    await candor?.close();
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

  it('accepts consented browser events and orders, drops the rest at the consent gate', async () => {
    const stats = result.events;
    expect(stats.accepted).toBeGreaterThan(1500);
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.quarantined).toBe(0);
    expect(stats.consentDecisions).toBeGreaterThanOrEqual(150);
    expect(await events.count()).toBe(stats.accepted);
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
    for (const c of generateShoppers({ ...OPTIONS, start: defaultDemoStart(OPTIONS.days) })) {
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
      .where('purpose', '!=', 'necessary')
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
    // Behaviour only with the consent that allowed it; orders without it are kept as `necessary`.
    for (const r of rows) {
      if (r.purpose === 'analytics') expect(r.consent_id).not.toBeNull();
      else expect([r.type, r.purpose, r.consent_id]).toEqual(['order_completed', 'necessary', null]);
    }
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

  it('loading the same shop again adds nothing (same demo source, deterministic message ids)', async () => {
    const before = await events.count();
    const again = await loadDemoInto(candor, OPTIONS, quiet);
    expect(again.sourceId).toBe(result.sourceId);
    expect(await events.count()).toBe(before);
  }, 120_000);
});
