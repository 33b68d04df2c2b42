import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DemoCallSchema } from './call.schemas.ts';
import type { DemoCall } from './calls.ts';
import { createRng, demoSummary, generateCatalog, generateShoppers, type DemoCatalog } from './generator.ts';

const START = '2025-03-01T00:00:00.000Z';

function hashOf(values: Iterable<unknown>): string {
  const h = createHash('sha256');
  for (const v of values) h.update(JSON.stringify(v)).update('\n');
  return h.digest('hex');
}

function small(seed: number): Iterable<DemoCall> {
  return generateShoppers({ seed, shoppers: 150, days: 10, start: START, products: 400 });
}

/** Traditional-only characters that occur in the vocabulary's Traditional forms. */
const HANT = /[機護電寶質貨賣這還樣顏運動線無]/;
const HAN = /\p{Script=Han}/u;

describe('demo generator', () => {
  let catalog: DemoCatalog;
  let calls: DemoCall[];

  beforeAll(() => {
    catalog = generateCatalog({ seed: 42, products: 3000 });
    calls = [...generateShoppers({ seed: 42, shoppers: 2000, days: 30, start: START, catalog })];
  });

  it('gives byte-identical output for the same seed and different output for another seed', () => {
    expect(hashOf(small(7))).toBe(hashOf(small(7)));
    expect(hashOf(small(7))).not.toBe(hashOf(small(8)));
    const a = generateCatalog({ seed: 7, products: 200 });
    expect(hashOf(a.products)).toBe(hashOf(generateCatalog({ seed: 7, products: 200 }).products));
    expect(hashOf(a.products)).not.toBe(hashOf(generateCatalog({ seed: 8, products: 200 }).products));
  });

  it('seeded randomness repeats exactly and is not constant', () => {
    const a = createRng(99);
    const b = createRng(99);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(new Set(xs).size).toBe(1000);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });

  it('emits calls in non-decreasing time order, inside the simulated period', () => {
    expect(calls.length).toBeGreaterThan(50_000);
    const start = Date.parse(START);
    const outOfOrder = calls.filter((c, i) => i > 0 && c.at < calls[i - 1]!.at);
    expect(outOfOrder).toEqual([]);
    expect(calls.every((c) => Number.isInteger(c.at))).toBe(true);
    expect(calls[0]!.at).toBeGreaterThanOrEqual(start);
    // Sessions that start before the end may finish just after it, never days later.
    expect(calls.at(-1)!.at).toBeLessThan(start + 31 * 86_400_000);
    const skewed = calls.filter((c) => 'timestamp' in c.body && Date.parse(c.body.timestamp) !== c.at);
    expect(skewed).toEqual([]);
  });

  it('every call parses with the schema of the API it is meant for', () => {
    // Every call of a mid-sized shop, plus every rarer call of the large one (parsing all 100k+ is slow).
    const frequent = new Set(['page', 'page_leave', 'product_view', 'product_list_view', 'search']);
    const rare = calls.filter((c) => !frequent.has(c.kind === 'track' ? c.body.event : c.kind));
    const sample = [
      ...generateShoppers({ seed: 3, shoppers: 400, days: 20, start: START, catalog }),
      ...rare,
    ];
    expect(sample.length).toBeGreaterThan(15_000);
    for (const call of sample) {
      const parsed = DemoCallSchema.safeParse(call);
      if (!parsed.success) throw new Error(`${JSON.stringify(call)}\n${parsed.error.message}`);
    }
  });

  it('builds a catalogue with a category tree and products in three languages', () => {
    const topLevel = catalog.categories.filter((c) => c.parentId === null);
    expect(topLevel.map((c) => c.id)).toEqual(
      expect.arrayContaining([
        'electronics',
        'fashion',
        'beauty',
        'home',
        'groceries',
        'toys',
        'sports',
        'books',
        'gift-cards',
      ]),
    );
    expect(catalog.categories.length).toBeGreaterThanOrEqual(40);
    expect(catalog.products).toHaveLength(3000);
    const paths = new Set(catalog.categories.map((c) => c.path));
    const odd = catalog.products.filter(
      (p) =>
        !paths.has(p.categoryPath) ||
        !Number.isInteger(p.price) ||
        p.price <= 0 ||
        p.currency !== 'IDR' ||
        !/^[\x20-\x7E]+$/.test(p.title.en) ||
        !HAN.test(p.title.zh),
    );
    expect(odd).toEqual([]);
    // Indonesian titles are Indonesian, not copies of the English ones.
    expect(catalog.products.filter((p) => p.title.id === p.title.en).length).toBeLessThan(
      catalog.products.length * 0.1,
    );
    expect(catalog.products.some((p) => HANT.test(p.title.zh))).toBe(true);
    expect(new Set(catalog.products.map((p) => p.title.en)).size).toBeGreaterThan(1500);
    const phone = catalog.products.find(
      (p) => p.categoryPath === 'electronics/phones' && p.title.en.includes('Smartphone'),
    );
    expect(phone?.title.id).toContain('Ponsel Pintar');
    expect(phone?.title.zh).toMatch(/智能手[机機]/);
  });

  it('popularity has a long tail: the top 10% of products get most product views', () => {
    const views = new Map<string, number>();
    let total = 0;
    for (const c of calls) {
      if (c.kind === 'track' && c.body.event === 'product_view') {
        const id = c.body.properties.product_id as string;
        views.set(id, (views.get(id) ?? 0) + 1);
        total++;
      }
    }
    const sorted = [...views.values()].sort((a, b) => b - a);
    const top = sorted.slice(0, 300).reduce((s, v) => s + v, 0);
    expect(top / total).toBeGreaterThan(0.5);
  });

  it('has the consent mix of a real banner: ~55% accept, ~20% analytics only, ~15% reject, ~10% GPC', () => {
    const first = new Map<string, DemoCall & { kind: 'consent' }>();
    for (const c of calls)
      if (c.kind === 'consent' && !first.has(c.body.anonymousId)) first.set(c.body.anonymousId, c);
    expect(first.size).toBe(2000);
    const mix = { accept: 0, analyticsOnly: 0, reject: 0, gpc: 0 };
    for (const { body } of first.values()) {
      if (body.method === 'gpc') {
        expect(body.gpc).toBe(true);
        expect(body.purposes.advertising || body.purposes.sale).toBe(false);
        mix.gpc++;
      } else if (Object.values(body.purposes).every(Boolean)) mix.accept++;
      else if (body.purposes.analytics) mix.analyticsOnly++;
      else mix.reject++;
    }
    expect(mix.accept / 2000).toBeCloseTo(0.55, 1);
    expect(mix.analyticsOnly / 2000).toBeCloseTo(0.2, 1);
    expect(mix.reject / 2000).toBeCloseTo(0.15, 1);
    expect(mix.gpc / 2000).toBeCloseTo(0.1, 1);
  });

  it('shoppers who refuse analytics send nothing but their orders, from their decision on', () => {
    const refused = new Set<string>();
    let theirOrders = 0;
    for (const c of calls) {
      if (c.kind === 'consent') {
        if (c.body.purposes.analytics) refused.delete(c.body.anonymousId);
        else refused.add(c.body.anonymousId);
      } else if (refused.has(c.body.anonymousId)) {
        if (c.kind !== 'order') throw new Error(`a shopper without analytics consent sent ${c.kind}`);
        theirOrders++;
      }
    }
    expect(theirOrders).toBeGreaterThan(0);
  });

  it('abandons about 70% of carts', () => {
    const carts = new Set<string>();
    let converted = 0;
    for (const c of calls) {
      if (c.kind === 'track' && c.body.event === 'add_to_cart')
        carts.add(c.body.properties.cart_id as string);
      if (c.kind === 'order' && carts.has(c.body.properties.cart_id)) converted++;
    }
    expect(carts.size).toBeGreaterThan(500);
    const abandonment = 1 - converted / carts.size;
    expect(abandonment).toBeGreaterThan(0.62);
    expect(abandonment).toBeLessThan(0.78);
  });

  it('has customers who identify mid-session, after anonymous events of that session', () => {
    const identifies = calls.filter((c) => c.kind === 'identify');
    const tracking = new Set(
      calls.filter((c) => c.kind === 'consent' && c.body.purposes.analytics).map((c) => c.body.anonymousId),
    );
    expect(identifies.length / tracking.size).toBeGreaterThan(0.3);
    expect(identifies.length / tracking.size).toBeLessThan(0.5);
    const firstSeen = new Map<string, DemoCall>();
    for (const c of calls)
      if (c.kind === 'page' && !firstSeen.has(c.body.anonymousId)) firstSeen.set(c.body.anonymousId, c);
    const sessionOf = (c: DemoCall) => ('context' in c.body ? c.body.context.sessionId : null);
    const mid = identifies.filter((i) => {
      const before = firstSeen.get(i.body.anonymousId);
      return before && before.at < i.at && !('userId' in before.body);
    });
    expect(mid.length).toBeGreaterThan(identifies.length * 0.8);
    // Later calls of an identified shopper in that session carry the customer id.
    const i = identifies[0]!;
    const after = calls.find((c) => c.at > i.at && c.kind === 'page' && sessionOf(c) === sessionOf(i));
    if (after) expect(after.body).toMatchObject({ userId: i.body.userId });
    for (const c of identifies) expect(c.body.traits.email).toMatch(/@example\.test$/);
  });

  it('has searches with and without results, and clicks with positions', () => {
    const searches = calls.filter((c) => c.kind === 'track' && c.body.event === 'search') as (DemoCall & {
      kind: 'track';
    })[];
    const zero = searches.filter((c) => c.body.properties.results_count === 0);
    expect(zero.length / searches.length).toBeGreaterThan(0.06);
    expect(zero.length / searches.length).toBeLessThan(0.14);
    const clicks = calls.filter((c) => c.kind === 'track' && c.body.event === 'search_click');
    expect(clicks.length).toBeGreaterThan(searches.length * 0.3);
    const locales = new Set(searches.map((s) => s.body.context.locale.slice(0, 2)));
    expect([...locales].sort()).toEqual(['en', 'id', 'zh']);
    expect(searches.some((s) => HAN.test(s.body.properties.query as string))).toBe(true);
  });

  it('writes reviews in English, Indonesian and Chinese (some Traditional), with ratings 1–5', () => {
    const reviews = calls.filter(
      (c) => c.kind === 'track' && c.body.event === 'review_submitted',
    ) as (DemoCall & { kind: 'track' })[];
    expect(reviews.length).toBeGreaterThan(30);
    const byLang = new Map<string, string[]>();
    for (const r of reviews) {
      const lang = r.body.context.locale.slice(0, 2);
      byLang.set(lang, [...(byLang.get(lang) ?? []), r.body.properties.text as string]);
    }
    expect(byLang.get('en')?.some((t) => /[a-z]/.test(t))).toBe(true);
    expect(
      byLang.get('id')?.some((t) => /\b(dan|sesuai|tidak|harga|barang|kualitas|kecewa)\b/i.test(t)),
    ).toBe(true);
    expect(byLang.get('zh')?.some((t) => HAN.test(t))).toBe(true);
    expect(
      reviews.some((r) => r.body.context.locale === 'zh-TW' && HANT.test(r.body.properties.text as string)),
    ).toBe(true);
    expect(new Set(reviews.map((r) => r.body.properties.rating))).toEqual(new Set([1, 2, 3, 4, 5]));
  });

  it('summarises while iterating: events by type, orders and revenue', () => {
    const s = demoSummary(calls);
    const orders = calls.filter((c) => c.kind === 'order');
    expect(s.shoppers).toBe(2000);
    expect(s.orders).toBe(orders.length);
    expect(s.revenue).toBe(
      orders.reduce((sum, o) => sum + (o.kind === 'order' ? o.body.properties.revenue : 0), 0),
    );
    expect(s.eventsByType.page_view).toBe(calls.filter((c) => c.kind === 'page').length);
    for (const type of [
      'product_view',
      'product_list_view',
      'add_to_cart',
      'remove_from_cart',
      'checkout_started',
      'product_shared',
      'page_leave',
    ]) {
      expect(s.eventsByType[type]).toBeGreaterThan(0);
    }
    expect(s.zeroResultSearches).toBeGreaterThan(0);
  });

  it('is lazy: a generator sized for far more than 1M events yields its first calls at once', () => {
    const huge = generateShoppers({ seed: 1, shoppers: 5_000_000, days: 365, start: START, products: 300 });
    const head: DemoCall[] = [];
    for (const c of huge) {
      head.push(c);
      if (head.length === 2000) break;
    }
    expect(head).toHaveLength(2000);
    expect(head[0]!.kind).toBe('consent');
    // Only the first minutes of a year have been simulated: nothing was built ahead of the consumer.
    expect(head.at(-1)!.at - head[0]!.at).toBeLessThan(86_400_000);
  });

  it('refuses options that cannot describe a shop', () => {
    expect(() => generateShoppers({ seed: 1, shoppers: -1, days: 1, start: START }).next()).toThrow(
      /shoppers/,
    );
    expect(() => generateShoppers({ seed: 1, shoppers: 1, days: 0, start: START }).next()).toThrow(/days/);
    expect(() => generateShoppers({ seed: 1, shoppers: 1, days: 1, start: 'not a date' }).next()).toThrow(
      /start/,
    );
    expect(() => generateCatalog({ seed: 1, products: 0 })).toThrow(/products/);
  });
});
