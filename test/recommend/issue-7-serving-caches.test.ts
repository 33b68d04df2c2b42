/**
 * Issue 7, serving latency: requests are answered from in-memory state (live stock, "not interested"
 * feedback, per-shopper candidate lists, a bounded candidate set for MMR). These tests pin that every
 * cache is invalidated when it must be, and that the fast paths give what the plain algorithms give.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/kernel/clock.ts';
import { testConfig } from '../../src/kernel/config.ts';
import type { Guards } from '../../src/kernel/http.ts';
import { createLogger } from '../../src/kernel/logger.ts';
import { createCatalogModule, type CatalogModule } from '../../src/modules/catalog/index.ts';
import { mmrRerank, mmrRerankPool } from '../../src/modules/recommend/algorithms/mmr.ts';
import { topK, topKAmong } from '../../src/modules/recommend/algorithms/sparse.ts';
import {
  createRecommendModule,
  deserializeModel,
  seededRandom,
  serializeModel,
  trainServingModel,
  trainVsknn,
  type RecommendModule,
} from '../../src/modules/recommend/index.ts';
import { openStores } from '../../src/storage/open-stores.ts';
import type { EventRecord, Stores } from '../../src/storage/ports.ts';
import { makeTempDir, type TempDir } from '../../src/storage/testing.ts';

const NOW = Date.UTC(2025, 5, 1);
const noGuard: Guards = {
  staff: () => async (_c, next) => next(),
  shopper: async (_c, next) => next(),
  writeKey: async (_c, next) => next(),
};
const logger = createLogger({ level: 'silent' });
let dir: TempDir;
let stores: Stores;
let catalog: CatalogModule;
let seq = 0;

function event(subject: string, type: string, product: string, ts: number): EventRecord {
  seq++;
  return {
    eventId: `c${seq}`,
    sourceId: 'web',
    subjectId: subject,
    anonymousId: subject,
    userId: null,
    sessionId: `${subject}-s${Math.floor(ts / 86_400_000)}`,
    type,
    purpose: 'personalization',
    consentId: null,
    ts,
    receivedAt: ts,
    path: null,
    referrer: null,
    productId: product,
    category: null,
    query: null,
    orderId: type === 'order_completed' ? `o${seq}` : null,
    revenue: null,
    currency: null,
    quantity: null,
    deviceClass: null,
    country: null,
    region: null,
    utmSource: null,
    props: '{}',
  };
}

const product = (id: string, stock = 5) => ({
  id,
  title: { en: `Lamp ${id}` },
  categoryPath: ['lamps'],
  brand: 'Glow',
  price: 1000,
  currency: 'IDR',
  stock,
  attributes: {},
  active: true,
});

/** A serving module; `cat` is the catalogue it is wired to (another process has its own). */
function makeModule(cat = catalog): RecommendModule {
  return createRecommendModule(
    {
      state: stores.state,
      events: stores.events,
      catalog: cat.service,
      personalisation: { isPersonalised: async () => true },
      subjectsOf: (q) => [q.userId, q.anonymousId].filter((x): x is string => x !== undefined),
      guards: noGuard,
      clock: fixedClock(new Date(NOW)),
      logger,
    },
    {
      trainEveryMs: 0,
      historyCache: { syncEveryMs: 0, blockOnTail: true },
      feedbackCache: { syncEveryMs: 0, blockOnTail: true },
    },
  );
}

beforeAll(async () => {
  dir = makeTempDir('candor-recommend-caches');
  stores = await openStores(testConfig(path.join(dir.path, 'data')));
  catalog = createCatalogModule({
    state: stores.state,
    guards: noGuard,
    logger,
    clock: fixedClock(new Date(NOW)),
  });
  await stores.state.migrate({ ...catalog.migrations, ...makeModule().migrations });
  await catalog.service.upsertProducts(Array.from({ length: 12 }, (_, i) => product(`l${i}`)));
  const rnd = seededRandom(5);
  const events: EventRecord[] = [];
  for (let u = 0; u < 40; u++)
    for (let e = 0; e < 6; e++)
      events.push(
        event(`u${u}`, 'product_view', `l${Math.floor(rnd() * 12)}`, NOW - (e + 1) * 3_600_000 - u),
      );
  events.push(
    event('eve', 'product_view', 'l1', NOW - 7_200_000),
    event('eve', 'product_view', 'l2', NOW - 3_600_000),
  );
  await stores.events.append(events);
});

afterAll(async () => {
  await stores?.close();
  dir?.cleanup();
});

describe('issue 7: serving caches take every change at once', () => {
  it('a stock change through the catalogue applies to the very next request, without retraining', async () => {
    const m = makeModule();
    await m.service.train();
    const before = await m.service.recommend({ surface: 'similar', subjectIds: [], itemId: 'l1', limit: 5 });
    const top = before.items[0]!.itemId;
    await catalog.service.upsertProducts([product(top, 0)]);
    const sold = await m.service.recommend({ surface: 'similar', subjectIds: [], itemId: 'l1', limit: 5 });
    expect(sold.items.map((i) => i.itemId)).not.toContain(top);
    await catalog.service.upsertProducts([{ ...product(top), active: false }]);
    const inactive = await m.service.recommend({
      surface: 'similar',
      subjectIds: [],
      itemId: 'l1',
      limit: 5,
    });
    expect(inactive.items.map((i) => i.itemId)).not.toContain(top);
    await catalog.service.upsertProducts([product(top)]);
    const back = await m.service.recommend({ surface: 'similar', subjectIds: [], itemId: 'l1', limit: 5 });
    expect(back.items.map((i) => i.itemId)).toContain(top);
  });

  it("another process's stock change is picked up by the catalogue sync", async () => {
    const m = makeModule();
    await m.service.refresh();
    // A second catalogue service on the same store stands for another process: we hear nothing from it.
    const other = createCatalogModule({
      state: stores.state,
      guards: noGuard,
      logger,
      clock: fixedClock(new Date(NOW)),
    });
    const before = await m.service.recommend({ surface: 'for-you', subjectIds: [], limit: 12 });
    const top = before.items[0]!.itemId;
    await other.service.upsertProducts([product(top, 0)]);
    await m.service.syncCatalog();
    const after = await m.service.recommend({ surface: 'for-you', subjectIds: [], limit: 12 });
    expect(after.items.map((i) => i.itemId)).not.toContain(top);
    await other.service.upsertProducts([product(top)]);
    await m.service.syncCatalog();
  });

  it('"not interested" given through another process is honoured once its tail ran', async () => {
    const serving = makeModule();
    await serving.service.refresh();
    const first = await serving.service.recommend({ surface: 'for-you', subjectIds: ['eve'], limit: 5 });
    const top = first.items[0]!.itemId;
    await makeModule().service.notInterested(['eve'], { itemId: top });
    const second = await serving.service.recommend({ surface: 'for-you', subjectIds: ['eve'], limit: 5 });
    expect(second.items.map((i) => i.itemId)).not.toContain(top);
    await makeModule().service.notInterested(['eve'], { category: 'lamps' });
    const third = await serving.service.recommend({ surface: 'for-you', subjectIds: ['eve'], limit: 5 });
    expect(third.items).toEqual([]);
  });

  it("a shopper's cached candidate list follows a purchase at once (bought items leave it)", async () => {
    const m = makeModule();
    await m.service.refresh();
    const first = await m.service.recommend({ surface: 'for-you', subjectIds: ['u3'], limit: 5 });
    const again = await m.service.recommend({ surface: 'for-you', subjectIds: ['u3'], limit: 5 });
    expect(again.items.map((i) => i.itemId)).toEqual(first.items.map((i) => i.itemId));
    const top = first.items[0]!.itemId;
    const ts = NOW + 1_000;
    await stores.events.append([{ ...event('u3', 'order_completed', top, ts), receivedAt: ts }]);
    const after = await m.service.recommend({ surface: 'for-you', subjectIds: ['u3'], limit: 5 });
    expect(after.items.map((i) => i.itemId)).not.toContain(top);
  });
});

describe('issue 7: the fast paths equal the plain algorithms', () => {
  it('topKAmong over a candidate list equals topK over the dense scores', () => {
    const rnd = seededRandom(9);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + Math.floor(rnd() * 300);
      // Few distinct values, so ties (broken by index) are exercised.
      const scores = Float64Array.from({ length: n }, () => (rnd() < 0.2 ? 0 : Math.floor(rnd() * 8)));
      const excluded = new Set(Array.from({ length: n }, (_, i) => i).filter(() => rnd() < 0.1));
      const k = Math.floor(rnd() * 40);
      const all = Array.from({ length: n }, (_, i) => i).sort(() => rnd() - 0.5);
      expect(topKAmong(all, scores, k, (i) => excluded.has(i))).toEqual(topK(scores, k, excluded));
    }
  });

  it('mmrRerankPool picks what mmrRerank picks', () => {
    const rnd = seededRandom(4);
    for (let trial = 0; trial < 30; trial++) {
      const n = 2 + Math.floor(rnd() * 40);
      const items = Array.from({ length: n }, (_, x) => 100 + x);
      const scores = Float64Array.from({ length: n }, () => rnd());
      const sim = new Float64Array(n * n);
      for (let a = 0; a < n; a++)
        for (let b = a + 1; b < n; b++) if (rnd() < 0.3) sim[a * n + b] = sim[b * n + a] = rnd();
      const lambda = [0.3, 0.5, 0.8, 0.9][trial % 4]!;
      const plain = mmrRerank(
        items.map((item, x) => ({ item, score: scores[x]! })),
        10,
        lambda,
        (a, b) => sim[(a - 100) * n + (b - 100)]!,
      ).map((r) => r.item - 100);
      const fast = mmrRerankPool(scores, 10, lambda, (x, visit) => {
        for (let y = 0; y < n; y++) if (sim[x * n + y]! > 0) visit(y, sim[x * n + y]!);
      });
      expect(fast).toEqual(plain);
    }
  });

  it('the serving model rebuilds V-SKNN from its session rows exactly as training does', () => {
    const rnd = seededRandom(2);
    const events = Array.from({ length: 600 }, (_, e) => ({
      subjectId: `s${e % 37}`,
      sessionId: `v${Math.floor(e / 5)}`,
      orderId: null,
      type: 'product_view',
      productId: `p${Math.floor(rnd() * 40)}`,
      ts: NOW - (600 - e) * 60_000,
    }));
    const products = Array.from({ length: 40 }, (_, i) => ({
      id: `p${i}`,
      title: { en: `P${i}`, id: null, zh: null },
      categoryPath: [],
      brand: null,
      price: 100,
      active: true,
      stock: 1,
    }));
    const model = deserializeModel(serializeModel(trainServingModel(events, products, { now: NOW })));
    const s = model.sessions;
    const nS = s.indptr.length - 1;
    const sessions = new Int32Array(s.items.length);
    const times = new Float64Array(s.items.length);
    for (let x = 0; x < nS; x++) {
      sessions.fill(x, s.indptr[x], s.indptr[x + 1]);
      times.fill(s.times[x]!, s.indptr[x], s.indptr[x + 1]);
    }
    const reference = trainVsknn({
      nUsers: nS,
      nItems: model.itemIds.length,
      users: sessions,
      items: s.items,
      weights: new Float64Array(s.items.length).fill(1),
      times,
      sessions,
    });
    for (const history of [[3], [1, 7, 3], [12, 12, 5, 30]])
      expect(Array.from(model.vsknn.score({ items: history, weights: history.map(() => 1) }))).toEqual(
        Array.from(reference.score({ items: history, weights: history.map(() => 1) })),
      );
  });
});
