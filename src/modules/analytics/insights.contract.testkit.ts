/**
 * Review sentiment, demand forecasts and demographics over a real event store (DuckDB in
 * insights.test.ts, PostgreSQL in insights.server.test.ts), through the HTTP routes (k-anonymity for an
 * analyst, everything for the owner): both stores must give these same answers.
 */
import path from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { AppError, errorBody, isAppError, statusOf } from '../../kernel/errors.ts';
import type { AppEnv, Guards, StaffRole } from '../../kernel/http.ts';
import { createLogger } from '../../kernel/logger.ts';
import { openSqliteStateStore } from '../../storage/index.ts';
import type { EventRecord, EventStore, StateStore } from '../../storage/ports.ts';
import { makeTempDir, type TempDir } from '../../storage/testing.ts';
import { createAnalyticsModule } from './analytics.module.ts';
import type { DemographicsReader } from './demographics.query.ts';
import type { ForecastResult } from './forecast.query.ts';
import type { ReviewSentimentResult } from './review-sentiment.query.ts';
import { DAY_MS } from './sql.ts';

const START = Date.UTC(2025, 0, 6); // a Monday
const DAYS = 70;
const WEEK = [3, 4, 4, 5, 6, 9, 8];

function testGuards(): Guards {
  const staff =
    (permission: string): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      const role = c.req.header('x-test-role') as StaffRole | undefined;
      if (!role) throw new AppError('unauthorized', 'Sign in first.');
      if (permission === 'analytics:read' && !['owner', 'analyst'].includes(role))
        throw new AppError('forbidden', 'Missing analytics:read.');
      c.set('principal', { kind: 'staff', staffId: `stf_${role}`, role, sessionId: null, apiKeyId: null });
      await next();
    };
  const deny: MiddlewareHandler<AppEnv> = async () => {
    throw new AppError('unauthorized', 'not used');
  };
  return { staff, shopper: deny, writeKey: deny };
}

let seq = 0;
function ev(
  subject: string,
  session: string,
  type: string,
  ts: number,
  fields: Partial<EventRecord> = {},
  props: Record<string, unknown> = {},
): EventRecord {
  seq++;
  return {
    eventId: `ev-${String(seq).padStart(6, '0')}`,
    sourceId: 'src_test',
    subjectId: subject,
    anonymousId: subject,
    userId: null,
    sessionId: session,
    type,
    purpose: 'analytics',
    consentId: 'cns_test',
    ts,
    receivedAt: ts,
    path: null,
    referrer: null,
    productId: null,
    category: null,
    query: null,
    orderId: null,
    revenue: null,
    currency: null,
    quantity: null,
    deviceClass: 'mobile',
    country: 'ID',
    region: null,
    utmSource: null,
    props: JSON.stringify(props),
    ...fields,
  };
}

const POSITIVE = [
  'Great shoes, very comfortable and the delivery was fast!',
  'Sepatunya bagus banget, nyaman dipakai',
  '鞋子质量很好，穿着很舒服',
  '鞋子質量很好，穿著很舒服',
];
const NEGATIVE = [
  'Terrible quality, the strap broke after two days.',
  'Tasnya jelek, jahitan rusak',
  '包太差了，用了一天就坏了',
];

/** 12 shoppers review p-shoes (positive), 3 review p-bag (negative); 20 view p-shoes, 5 buy it; 70 days of orders. */
function dataset(): EventRecord[] {
  const out: EventRecord[] = [];
  const day10 = START + 60 * DAY_MS;
  for (let i = 0; i < 20; i++) {
    const s = `subj-${String(i).padStart(2, '0')}`;
    const session = `${s}-view`;
    const t = day10 + i * 60_000;
    out.push(ev(s, session, 'product_view', t, { productId: 'p-shoes', category: 'shoes' }));
    if (i < 5) {
      out.push(ev(s, session, 'add_to_cart', t + 1000, { productId: 'p-shoes', category: 'shoes' }));
      out.push(
        ev(s, session, 'order_completed', t + 2000, { orderId: `o-v${i}`, revenue: 50 }, { items: [] }),
      );
    } else if (i < 8) {
      // added, never bought: not a buyer
      out.push(ev(s, session, 'add_to_cart', t + 1000, { productId: 'p-shoes', category: 'shoes' }));
    }
    if (i < 12) {
      out.push(
        ev(
          s,
          `${s}-review`,
          'review_submitted',
          day10 + DAY_MS + i * 1000,
          { productId: 'p-shoes' },
          { rating: 5, text: POSITIVE[i % POSITIVE.length] },
        ),
      );
    } else if (i < 15) {
      out.push(
        ev(
          s,
          `${s}-review`,
          'review_submitted',
          day10 + DAY_MS + i * 1000,
          { productId: 'p-bag' },
          { rating: 1, text: NEGATIVE[i - 12] },
        ),
      );
    }
  }
  // Orders: p-shoes follows a weekly pattern, p-bag sells 2 a day; 15 different buyers take turns.
  for (let d = 0; d < DAYS; d++) {
    const s = `buyer-${String(d % 15).padStart(2, '0')}`;
    const t = START + d * DAY_MS + 12 * 3_600_000;
    out.push(
      ev(
        s,
        `${s}-d${d}`,
        'order_completed',
        t,
        { orderId: `o-${d}`, revenue: 100 },
        {
          items: [
            { productId: 'p-shoes', quantity: WEEK[d % 7], category: 'shoes' },
            { productId: 'p-bag', quantity: 2 },
          ],
        },
      ),
    );
    // p-bag's category comes from its views
    if (d === 0)
      out.push(ev(s, `${s}-d${d}`, 'product_view', t - 1000, { productId: 'p-bag', category: 'bags' }));
  }
  return out;
}

const TRAITS: Record<string, { ageBand?: string; gender?: string; region?: string }> = {};
for (let i = 0; i < 20; i++) {
  // 12 declared an age band (11 of them 25_34), 4 a gender; the rest declared nothing or withdrew consent.
  if (i < 11) TRAITS[`subj-${String(i).padStart(2, '0')}`] = { ageBand: '25_34', region: 'ID-JK' };
  else if (i === 11) TRAITS[`subj-${String(i).padStart(2, '0')}`] = { ageBand: '45_54', gender: 'female' };
  else if (i < 15) TRAITS[`subj-${String(i).padStart(2, '0')}`] = { gender: 'male' };
}
const reader: DemographicsReader = async (ids) => {
  const m = new Map<string, { ageBand?: string; gender?: string; region?: string }>();
  for (const id of ids) {
    const t = TRAITS[id];
    if (t) m.set(id, t);
  }
  return m;
};

export type OpenEvents = () => Promise<{ events: EventStore; close(): Promise<void> }>;

export function describeInsights(name: string, openEvents: OpenEvents): void {
  describe(`analytics: review sentiment, forecasts, demographics (${name})`, () => {
    let dir: TempDir;
    let events: EventStore;
    let closeEvents: (() => Promise<void>) | undefined;
    let stateStore: StateStore | undefined;
    const clock = fixedClock(new Date(START + DAYS * DAY_MS + 3_600_000));
    const app = new OpenAPIHono<AppEnv>({
      defaultHook: (result) => {
        if (!result.success)
          throw new AppError(
            'invalid_request',
            `Invalid ${result.target}: ${result.error.issues.map((i) => i.message).join('; ')}`,
          );
      },
    });
    app.onError((e, c) => {
      const err = isAppError(e) ? e : new AppError('internal', 'Something went wrong on our side.');
      return c.json(errorBody(err, 'req-test'), statusOf(err.code) as 400);
    });
    const bare = new OpenAPIHono<AppEnv>();
    bare.onError((e, c) => {
      const err = isAppError(e) ? e : new AppError('internal', 'Something went wrong on our side.');
      return c.json(errorBody(err, 'req-test'), statusOf(err.code) as 400);
    });

    beforeAll(async () => {
      dir = makeTempDir('candor-analytics-insights');
      const opened = await openEvents();
      events = opened.events;
      closeEvents = () => opened.close();
      const state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
      stateStore = state;
      await events.append(dataset());
      const base = { events, state, clock, logger: createLogger({ level: 'silent' }), guards: testGuards() };
      const module = createAnalyticsModule({ ...base, demographics: reader }, { kAnonymity: 10 });
      await state.migrate(module.migrations!);
      module.routes!(app);
      // The same module without profiles wired.
      createAnalyticsModule(base, { kAnonymity: 10 }).routes!(bare);
    });
    afterAll(async () => {
      // The temp dir goes even when opening a store failed half-way.
      try {
        await closeEvents?.();
        await stateStore?.close();
      } finally {
        dir.cleanup();
      }
    });

    const get = (url: string, role = 'owner', on = app) =>
      on.request(url, { headers: { 'x-test-role': role } });
    const range = 'from=2025-01-06&to=2025-03-16';

    it('classifies each review and sums sentiment per product, beside its conversion', async () => {
      const res = await get(`/v1/analytics/reviews/sentiment?${range}&reviews=100`);
      expect(res.status).toBe(200);
      const r = (await res.json()) as ReviewSentimentResult & { privacy: unknown };
      expect(r.reviews).toBe(15);
      expect(r.sentiment).toEqual({ positive: 12, neutral: 0, negative: 3 });
      expect(r.languages).toEqual({ en: 4, id: 4, zh: 7 });
      const shoes = r.products.find((p) => p.productId === 'p-shoes')!;
      expect(shoes).toMatchObject({
        reviews: 12,
        shoppers: 12,
        meanRating: 5,
        viewers: 20,
        buyers: 5,
        conversionRate: 0.25,
      });
      expect(shoes.meanPolarity!).toBeGreaterThan(0.5);
      const bag = r.products.find((p) => p.productId === 'p-bag')!;
      expect(bag).toMatchObject({
        reviews: 3,
        sentiment: { negative: 3 },
        viewers: 1,
        buyers: 0,
        conversionRate: 0,
      });
      expect(r.reviewList).toHaveLength(15);
      expect(r.reviewList[0]).not.toHaveProperty('text');
      expect(r.privacy).toEqual({ kAnonymity: null, suppressedGroups: 0 });
    });

    it('hides products reviewed by fewer than k shoppers, and the per-review list, from an analyst', async () => {
      const r = (await (
        await get(`/v1/analytics/reviews/sentiment?${range}`, 'analyst')
      ).json()) as ReviewSentimentResult & { privacy: unknown };
      expect(r.products.map((p) => p.productId)).toEqual(['p-shoes']);
      expect(r.reviewList).toEqual([]);
      expect(r.privacy).toEqual({ kAnonymity: 10, suppressedGroups: 1 + 15 });
      expect(r.sentiment.positive).toBe(12);
    });

    it('forecasts each product and category with the model its backtest chose, beside the baseline', async () => {
      const res = await get('/v1/analytics/forecasts?level=product&horizon=28');
      expect(res.status).toBe(200);
      const f = (await res.json()) as ForecastResult;
      expect(f.history).toEqual({ from: '2024-09-16', to: '2025-03-16', days: 182 });
      const shoes = f.series.find((s) => s.key === 'p-shoes')!;
      expect(shoes.units).toBe(10 * WEEK.reduce((a, b) => a + b, 0));
      expect(shoes.shoppers).toBe(15);
      expect(shoes.errors.mase).toBe(0);
      expect(shoes.baseline.mase).toBe(0);
      expect(shoes.forecastDays[0]).toBe('2025-03-17');
      // 2025-03-17 is a Monday, like the first day of the history: the weekly pattern carries on.
      expect(shoes.points.map((p) => p.value)).toEqual(Array.from({ length: 28 }, (_, i) => WEEK[i % 7]));
      const bag = f.series.find((s) => s.key === 'p-bag')!;
      expect(bag.points.every((p) => p.value === 2)).toBe(true);

      const byCat = (await (
        await get('/v1/analytics/forecasts?level=category&horizon=14&historyDays=70')
      ).json()) as ForecastResult;
      expect(byCat.series.map((s) => [s.key, s.units])).toEqual([
        ['shoes', 10 * WEEK.reduce((a, b) => a + b, 0)],
        ['bags', 140],
      ]);
      expect(byCat.series[0]!.points).toHaveLength(14);
    });

    it('answers bad forecast parameters with a 400 that says what to send', async () => {
      const res = await get('/v1/analytics/forecasts?horizon=30');
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
      expect((await get('/v1/analytics/forecasts?historyDays=7')).status).toBe(400);
    });

    it('counts demographics only from declared traits, and suppresses small groups for an analyst', async () => {
      const owner = (await (await get(`/v1/analytics/demographics?${range}`)).json()) as {
        shoppers: number;
        declared: number;
        ageBand: { value: string; shoppers: number; buyers: number }[];
        gender: { value: string; shoppers: number }[];
        region: { value: string; shoppers: number }[];
      };
      expect(owner.shoppers).toBe(35);
      expect(owner.declared).toBe(15);
      expect(owner.ageBand).toEqual([
        { value: '25_34', shoppers: 11, buyers: 5, conversionRate: 0.454545 },
        { value: '45_54', shoppers: 1, buyers: 0, conversionRate: 0 },
      ]);
      expect(owner.gender).toEqual([
        { value: 'male', shoppers: 3, buyers: 0, conversionRate: 0 },
        { value: 'female', shoppers: 1, buyers: 0, conversionRate: 0 },
      ]);
      const analyst = (await (
        await get(`/v1/analytics/demographics?${range}`, 'analyst')
      ).json()) as typeof owner & {
        privacy: unknown;
      };
      expect(analyst.ageBand.map((g) => g.value)).toEqual(['25_34']);
      expect(analyst.gender).toEqual([]);
      expect(analyst.region).toEqual([{ value: 'ID-JK', shoppers: 11, buyers: 5, conversionRate: 0.454545 }]);
      expect(analyst.privacy).toEqual({ kAnonymity: 10, suppressedGroups: 3 });
    });

    it('says demographics need the profiles module when it is not wired', async () => {
      const res = await get(`/v1/analytics/demographics?${range}`, 'owner', bare);
      expect(res.status).toBe(412);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/profiles/);
    });

    it('documents the new routes in the OpenAPI document', () => {
      const doc = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '1' } });
      expect(Object.keys(doc.paths ?? {})).toEqual(
        expect.arrayContaining([
          '/v1/analytics/reviews/sentiment',
          '/v1/analytics/forecasts',
          '/v1/analytics/demographics',
        ]),
      );
    });
  });
}
