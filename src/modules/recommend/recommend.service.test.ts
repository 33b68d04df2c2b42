import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { testConfig } from '../../kernel/config.ts';
import type { Guards } from '../../kernel/http.ts';
import { createLogger } from '../../kernel/logger.ts';
import { openStores } from '../../storage/open-stores.ts';
import type { EventRecord, Stores } from '../../storage/ports.ts';
import { makeTempDir, type TempDir } from '../../storage/testing.ts';
import { createCatalogModule, type CatalogModule } from '../catalog/index.ts';
import { seededRandom } from './algorithms/metrics.ts';
import { createErasedSubjects, privacyMigrations, type ErasedSubjects } from '../privacy/index.ts';
import { createRecommendModule, type RecommendModule } from './recommend.module.ts';

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
const personalised = new Set<string>();
/** Interest tags per subject, as profiles would hand them over. */
const interestTags = new Map<string, { tag: string; score: number }[]>();
let seq = 0;

function event(
  subject: string,
  type: string,
  product: string,
  ts: number,
  extra: Partial<EventRecord> = {},
): EventRecord {
  seq++;
  return {
    eventId: `e${seq}`,
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
    ...extra,
  };
}

function makeModule(
  waitFor: (ids: readonly string[]) => Promise<void> = async () => undefined,
  erased?: Pick<ErasedSubjects, 'among'>,
): RecommendModule {
  return createRecommendModule(
    {
      state: stores.state,
      events: stores.events,
      catalog: catalog.service,
      personalisation: {
        isPersonalised: async (ids) => {
          await waitFor(ids);
          return ids.some((i) => personalised.has(i));
        },
      },
      interests: {
        of: async (ids) => ids.flatMap((i) => interestTags.get(i) ?? []),
        tagOf: (category) => category.toLowerCase(),
      },
      subjectsOf: (q) => [q.userId, q.anonymousId].filter((x): x is string => x !== undefined),
      guards: noGuard,
      clock: fixedClock(new Date(NOW)),
      logger,
      ...(erased ? { erased } : {}),
    },
    { trainEveryMs: 0, diversityLambda: 0.9, historyCache: { syncEveryMs: 0, blockOnTail: true } },
  );
}

beforeAll(async () => {
  dir = makeTempDir('candor-recommend');
  stores = await openStores(testConfig(path.join(dir.path, 'data')));
  catalog = createCatalogModule({
    state: stores.state,
    guards: noGuard,
    logger,
    clock: fixedClock(new Date(NOW)),
  });
  const probe = makeModule();
  await stores.state.migrate({ ...catalog.migrations, ...probe.migrations });
  // Two taste groups: shoes (s0..s9, brand Acme) and kitchen (k0..k9, brand Boil). s9 is out of stock.
  await catalog.service.upsertProducts([
    ...Array.from({ length: 10 }, (_, i) => ({
      id: `s${i}`,
      title: { en: `Canvas shoe ${i}`, id: `Sepatu kanvas ${i}`, zh: `帆布鞋${i}` },
      categoryPath: ['shoes'],
      brand: 'Acme',
      price: 1000 + i * 100,
      currency: 'IDR',
      stock: i === 9 ? 0 : 5,
      attributes: {},
      active: true,
    })),
    ...Array.from({ length: 10 }, (_, i) => ({
      id: `k${i}`,
      title: { en: `Kettle ${i}`, zh: `水壶${i}` },
      categoryPath: ['kitchen'],
      brand: 'Boil',
      price: 5000 + i * 100,
      currency: 'IDR',
      stock: 5,
      attributes: {},
      active: true,
    })),
  ]);
  const rnd = seededRandom(3);
  const events: EventRecord[] = [];
  for (let u = 0; u < 60; u++) {
    const prefix = u % 2 === 0 ? 's' : 'k';
    for (let e = 0; e < 8; e++) {
      const item = `${prefix}${Math.floor(rnd() * 10)}`;
      events.push(
        event(
          `u${u}`,
          e % 4 === 0 ? 'add_to_cart' : 'product_view',
          item,
          NOW - (e + 1) * 3_600_000 - u * 60_000,
        ),
      );
    }
  }
  events.push(
    event('alice', 'product_view', 's1', NOW - 7_200_000),
    event('alice', 'order_completed', 's2', NOW - 3_600_000),
  );
  await stores.events.append(events);
  personalised.add('alice');
});

afterAll(async () => {
  await stores?.close();
  dir?.cleanup();
});

describe('recommend service', () => {
  it('trains a versioned model and serves for-you with reasons in en/id/zh, never what was bought or is out of stock', async () => {
    const m = makeModule();
    const { version } = await m.service.train();
    expect(version).toBeGreaterThan(0);
    const r = await m.service.recommend({ surface: 'for-you', subjectIds: ['alice'], limit: 5 });
    expect(r.personalised).toBe(true);
    expect(r.items).toHaveLength(5);
    const ids = r.items.map((i) => i.itemId);
    expect(ids).not.toContain('s2');
    expect(ids).not.toContain('s9');
    expect(ids.filter((id) => id.startsWith('s')).length).toBeGreaterThanOrEqual(3);
    const viewed = r.items.find((i) => i.reason.kind === 'viewed');
    expect(viewed?.reason.en).toMatch(/^Because you viewed Canvas shoe/);
    expect(viewed?.reason.id).toMatch(/^Karena Anda melihat Sepatu kanvas/);
    expect(viewed?.reason.zh).toMatch(/^因为您浏览了帆布鞋/);
  });

  it('similar and bought-together stay in the product family; the page item itself is not repeated', async () => {
    const m = makeModule();
    const similar = await m.service.recommend({ surface: 'similar', subjectIds: [], itemId: 'k3', limit: 4 });
    expect(similar.items.map((i) => i.itemId)).not.toContain('k3');
    expect(similar.items.every((i) => i.itemId.startsWith('k'))).toBe(true);
    expect(similar.items[0]!.reason.en).toMatch(/^Similar to Kettle/);
    const together = await m.service.recommend({
      surface: 'bought-together',
      subjectIds: [],
      itemId: 's1',
      limit: 3,
      brand: 'Acme',
    });
    expect(together.items.every((i) => i.itemId.startsWith('s'))).toBe(true);
    await expect(m.service.recommend({ surface: 'similar', subjectIds: [], limit: 3 })).rejects.toMatchObject(
      { code: 'invalid_request' },
    );
  });

  it('non-personalised mode: the output does not change when the profile does', async () => {
    const m = makeModule();
    const before = await m.service.recommend({ surface: 'for-you', subjectIds: ['bob'], limit: 6 });
    expect(before.personalised).toBe(false);
    await stores.events.append(
      Array.from({ length: 20 }, (_, i) => event('bob', 'order_completed', `k${i % 10}`, NOW - 1000 - i)),
    );
    await m.service.notInterested(['bob'], { category: 'shoes' });
    const after = await m.service.recommend({ surface: 'for-you', subjectIds: ['bob'], limit: 6 });
    expect(after.items).toEqual(before.items);
    expect(after.items.every((i) => i.reason.kind === 'popular')).toBe(true);
  });

  it('explains "for you" with the shopper\'s interest tag, and stops the moment the tag is deleted', async () => {
    const m = makeModule();
    await stores.events.append([event('carol', 'product_view', 's3', NOW - 3_600_000)]);
    personalised.add('carol');
    interestTags.set('carol', [{ tag: 'shoes', score: 1 }]);
    const withTag = await m.service.recommend({ surface: 'for-you', subjectIds: ['carol'], limit: 6 });
    const byInterest = withTag.items.filter((i) => i.reason.kind === 'interest');
    expect(byInterest.length).toBeGreaterThan(0);
    expect(byInterest.every((i) => i.itemId.startsWith('s'))).toBe(true);
    expect(byInterest[0]!.reason).toMatchObject({
      en: 'Matches your interest “shoes”',
      id: 'Sesuai minat Anda “shoes”',
      zh: '符合您的兴趣“shoes”',
    });

    interestTags.set('carol', []);
    const without = await m.service.recommend({ surface: 'for-you', subjectIds: ['carol'], limit: 6 });
    expect(without.items.some((i) => i.reason.kind === 'interest')).toBe(false);
    expect(JSON.stringify(without.items)).not.toContain('shoes');
    // The shoes are still there, now explained by what carol viewed.
    expect(without.items.find((i) => i.reason.kind === 'viewed')?.reason.en).toMatch(/^Because you viewed/);
    // With personalisation off the tags are not read at all.
    interestTags.set('carol', [{ tag: 'shoes', score: 1 }]);
    personalised.delete('carol');
    const off = await m.service.recommend({ surface: 'for-you', subjectIds: ['carol'], limit: 6 });
    expect(off.items.every((i) => i.reason.kind === 'popular')).toBe(true);
  });

  it("folds a shopper's new events in at once without retraining, and forgets them when personalisation goes off", async () => {
    const m = makeModule();
    personalised.add('dora');
    const cold = await m.service.recommend({ surface: 'for-you', subjectIds: ['dora'], limit: 5 });
    expect(cold.personalised).toBe(true);
    expect(cold.items.every((i) => i.reason.kind === 'popular')).toBe(true);
    const version = m.service.modelVersion;
    // Received after the model was trained and after dora's history was cached.
    await stores.events.append(
      ['k2', 'k4', 'k6'].map((k, x) =>
        event('dora', 'product_view', k, NOW + x, { receivedAt: NOW + 60_000 }),
      ),
    );
    const warm = await m.service.recommend({ surface: 'for-you', subjectIds: ['dora'], limit: 5 });
    expect(m.service.modelVersion).toBe(version);
    expect(warm.items.filter((i) => i.itemId.startsWith('k')).length).toBeGreaterThanOrEqual(4);
    expect(warm.items.some((i) => /^Because you viewed Kettle [246]$/.test(i.reason.en))).toBe(true);
    personalised.delete('dora');
    const off = await m.service.recommend({ surface: 'for-you', subjectIds: ['dora'], limit: 5 });
    expect(off.personalised).toBe(false);
    expect(off.items.every((i) => i.reason.kind === 'popular')).toBe(true);
  });

  it('"not interested" removes an item and a category at once', async () => {
    const m = makeModule();
    const first = await m.service.recommend({ surface: 'for-you', subjectIds: ['alice'], limit: 5 });
    const top = first.items[0]!.itemId;
    await m.service.notInterested(['alice'], { itemId: top });
    const second = await m.service.recommend({ surface: 'for-you', subjectIds: ['alice'], limit: 5 });
    expect(second.items.map((i) => i.itemId)).not.toContain(top);
    await m.service.notInterested(['alice'], { category: 'shoes' });
    const third = await m.service.recommend({ surface: 'for-you', subjectIds: ['alice'], limit: 5 });
    expect(third.items.every((i) => i.itemId.startsWith('k'))).toBe(true);
  });

  it('pins and buries by shop rule, and reports exposure fairness', async () => {
    const m = makeModule();
    await m.service.putRule({ id: 'pin-k7', kind: 'pin', itemId: 'k7', surface: 'similar', factor: 1 });
    const r = await m.service.recommend({ surface: 'similar', subjectIds: [], itemId: 'k1', limit: 3 });
    expect(r.items[0]!.itemId).toBe('k7');
    const report = await m.service.fairness(30);
    expect(report.impressions).toBeGreaterThan(0);
    expect(Object.keys(report.byBrand).sort()).toEqual(['Acme', 'Boil']);
    expect(report.byBrand.Acme!.catalogueShare).toBeCloseTo(0.5);
    expect(report.giniItems).toBeGreaterThan(0);
    expect(Object.keys(report.byPriceBand)).toEqual(expect.arrayContaining(['low', 'high']));
  });

  it('hot-swaps a version trained by another process', async () => {
    const serving = makeModule();
    const v1 = await serving.service.refresh();
    const { version: v2 } = await makeModule().service.train();
    expect(v2).toBeGreaterThan(v1);
    expect(await serving.service.refresh()).toBe(v2);
  });

  it('erasure removes feedback and impressions, retrains without the shopper and drops older versions', async () => {
    const m = makeModule();
    const before = await m.service.train();
    const exported = await m.holder.export({ subjectIds: ['alice'] });
    expect(exported.tables.recommend_feedback!.length).toBeGreaterThan(0);
    const outcome = await m.holder.erase({ subjectIds: ['alice'] });
    expect(outcome.deleted).toBeGreaterThan(0);
    const after = await m.holder.export({ subjectIds: ['alice'] });
    expect(after.tables.recommend_feedback).toEqual([]);
    expect(after.tables.recommend_impressions).toEqual([]);
    expect(m.service.modelVersion).toBeGreaterThan(before.version);
    const rows = await stores.state.db.selectFrom('recommend_models').select(['version', 'stats']).execute();
    expect(rows.map((r) => Number(r.version))).toEqual([m.service.modelVersion]);
    expect(JSON.parse(String(rows[0]!.stats)).subjects).toBe(before.stats.subjects - 1);
    expect((await m.holder.erase({ subjectIds: ['alice'] })).deleted).toBe(0);
  });

  it('an erasure while impressions are being written leaves none of the shopper behind', async () => {
    const m = makeModule();
    await m.service.train();
    // 30 other shoppers first, so the shopper's rows come after the first 200-row slice of the flush.
    for (let i = 0; i < 30; i++) {
      personalised.add(`flush-${i}`);
      await m.service.recommend({ surface: 'for-you', subjectIds: [`flush-${i}`], limit: 10 });
    }
    personalised.add('erin');
    await m.service.recommend({ surface: 'for-you', subjectIds: ['erin'], limit: 10 });
    const flushed = m.service.flush();
    const erased = m.holder.erase({ subjectIds: ['erin'] });
    await Promise.all([flushed, erased]);
    expect((await m.holder.export({ subjectIds: ['erin'] })).tables.recommend_impressions).toEqual([]);
    // The other shoppers' impressions were all written.
    const others = await stores.state.db
      .selectFrom('recommend_impressions')
      .select('subject_id')
      .distinct()
      .where('subject_id', 'like', 'flush-%')
      .execute();
    expect(others).toHaveLength(30);
  });

  it('a recommendation still being served when the erasure finishes records no impression of the shopper', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const m = makeModule((ids) => (ids.includes('gwen') ? held : Promise.resolve()));
    await m.service.train();
    personalised.add('gwen');
    const serving = m.service.recommend({ surface: 'for-you', subjectIds: ['gwen'], limit: 10 });
    await m.holder.erase({ subjectIds: ['gwen'] });
    release();
    expect((await serving).items.length).toBeGreaterThan(0);
    await m.service.flush();
    expect((await m.holder.export({ subjectIds: ['gwen'] })).tables.recommend_impressions).toEqual([]);
    // Another shopper's list is still recorded.
    personalised.add('hana');
    await m.service.recommend({ surface: 'for-you', subjectIds: ['hana'], limit: 10 });
    await m.service.flush();
    expect(
      (await m.holder.export({ subjectIds: ['hana'] })).tables.recommend_impressions!.length,
    ).toBeGreaterThan(0);
  });

  it('a shopper erased by another process: impressions buffered here are not written, and a write the erasure overlapped is taken back', async () => {
    await stores.state.migrate(privacyMigrations(stores.state.dialect));
    const erased = createErasedSubjects({ state: stores.state, clock: fixedClock(new Date(NOW)) });
    // Two serving processes on one state store; the erasures run in the other one, as the erasure flow
    // does: the subject is named as erased, then the holders delete.
    const eraseElsewhere = async (id: string) => {
      await erased.record([id]);
      await elsewhere.holder.erase({ subjectIds: [id] });
    };
    let duringWrite: (() => Promise<void>) | null = null;
    const here = makeModule(undefined, {
      // Asked before the write: the erasure of `duringWrite` lands right after the answer.
      among: async (ids) => {
        const answer = await erased.among(ids);
        const f = duringWrite;
        duringWrite = null;
        if (f) await f();
        return answer;
      },
    });
    const elsewhere = makeModule();
    await here.service.train();
    for (const id of ['iris', 'jon', 'kim']) {
      personalised.add(id);
      await here.service.recommend({ surface: 'for-you', subjectIds: [id], limit: 10 });
    }
    await eraseElsewhere('iris');
    duringWrite = () => eraseElsewhere('jon');
    await here.service.flush();
    const impressionsOf = async (id: string) =>
      (await here.holder.export({ subjectIds: [id] })).tables.recommend_impressions!.length;
    expect(await impressionsOf('iris')).toBe(0);
    expect(await impressionsOf('jon')).toBe(0);
    expect(await impressionsOf('kim')).toBeGreaterThan(0);
    // Later lists of the erased shoppers are not recorded either, in this process.
    await here.service.recommend({ surface: 'for-you', subjectIds: ['jon'], limit: 10 });
    await here.service.flush();
    expect(await impressionsOf('jon')).toBe(0);
  });
});
