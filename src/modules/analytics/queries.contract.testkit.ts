/**
 * The analytics query contract: every query, on a given event store, answers exactly what the brute-force
 * reference computes over the same generated events. Run on DuckDB by queries.test.ts and on PostgreSQL by
 * queries.server.test.ts, so both stores are held to one set of answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord, EventStore } from '../../storage/ports.ts';
import { cartQuery } from './cart.query.ts';
import { boundedDailyTotals } from './dp-reports.query.ts';
import { dwellQuery } from './dwell.query.ts';
import { FIXTURE_DAYS, FIXTURE_START, generateFixture } from './fixture.testkit.ts';
import { funnelQuery, type FunnelParams } from './funnel.query.ts';
import { overviewQuery } from './overview.query.ts';
import { browseDepthQuery, pathsQuery } from './paths.query.ts';
import {
  refBoundedDaily,
  refBrowseDepth,
  refCart,
  refDwell,
  refFunnel,
  refOverview,
  refPaths,
  refRetention,
  refReviews,
  refSearch,
} from './reference.testkit.ts';
import { retentionQuery } from './retention.query.ts';
import { reviewsQuery } from './reviews.query.ts';
import { searchQuery } from './search.query.ts';
import { DAY_MS } from './sql.ts';

const ALL = { from: FIXTURE_START, to: FIXTURE_START + FIXTURE_DAYS * DAY_MS };
/** A window that cuts through the data, so range filtering matters. */
const PART = { from: FIXTURE_START + 9 * DAY_MS, to: FIXTURE_START + 30 * DAY_MS };

export function describeQueryContract(
  name: string,
  open: () => Promise<{ events: EventStore; close(): Promise<void> }>,
): void {
  describe(`analytics queries on ${name} match the reference computation`, () => {
    let store: { events: EventStore; close(): Promise<void> };
    let events: EventStore;
    let data: EventRecord[];

    beforeAll(async () => {
      store = await open();
      events = store.events;
      data = generateFixture();
      await events.append(data);
    });
    afterAll(async () => {
      await store?.close();
    });

    it('has a fixture with every event type the queries read', () => {
      const types = new Set(data.map((e) => e.type));
      for (const t of [
        'page_view',
        'product_view',
        'search',
        'search_click',
        'add_to_cart',
        'remove_from_cart',
        'order_completed',
        'review_submitted',
        'page_leave',
      ]) {
        expect(types.has(t), t).toBe(true);
      }
    });

    it('overview: per-day and total figures with the comparison period', async () => {
      for (const range of [ALL, PART]) {
        const got = await overviewQuery(events, { range });
        const want = refOverview(data, range);
        expect(got.current).toEqual(want.current);
        expect(got.comparison).toEqual(want.comparison);
        expect(got.current.totals.orders).toBeGreaterThan(0);
      }
    });

    const steps: FunnelParams['steps'] = [
      { type: 'page_view' },
      { type: 'product_view' },
      { type: 'add_to_cart' },
      { type: 'order_completed' },
    ];
    for (const order of ['ordered', 'any', 'strict'] as const) {
      it(`funnel (${order}): step counts, breakdown, time to convert and drop-off`, async () => {
        const variants: FunnelParams[] = [
          {
            range: ALL,
            steps,
            windowMs: 7 * DAY_MS,
            order,
            breakdown: 'device_class',
            dropOff: { step: 2, limit: 7 },
          },
          {
            range: PART,
            steps,
            windowMs: 3_600_000,
            order,
            breakdown: 'utm_source',
            dropOff: { step: 1, limit: 100 },
          },
          {
            range: ALL,
            steps: [
              { type: 'search', filters: [{ property: 'props.resultsCount', op: 'neq', value: '0' }] },
              { type: 'search_click' },
              {
                type: 'add_to_cart',
                filters: [{ property: 'category', op: 'eq', value: ['shoes', 'bags'] }],
              },
            ],
            windowMs: DAY_MS,
            order,
            breakdown: 'country',
          },
          {
            range: ALL,
            steps: [{ type: 'product_view' }, { type: 'product_view' }],
            windowMs: DAY_MS,
            order,
          },
          {
            range: ALL,
            steps: [{ type: 'checkout_started' }, { type: 'order_completed' }],
            windowMs: DAY_MS,
            order,
            breakdown: 'props.items',
          },
        ];
        for (const p of variants) {
          const got = await funnelQuery(events, p);
          expect(got).toEqual(refFunnel(data, p));
        }
        // Not a vacuous match: checkout → order is consecutive in the fixture, so every mode sees conversions.
        const checkout = await funnelQuery(events, variants[4]!);
        expect(checkout.steps[1]!.shoppers).toBeGreaterThan(0);
        expect(checkout.medianTimeToConvertMs).not.toBeNull();
      });
    }

    it('paths: next and previous steps and whole paths from a page or an event', async () => {
      const variants = [
        { range: ALL, anchor: { type: 'search' }, direction: 'next' as const, depth: 3, limit: 20 },
        {
          range: PART,
          anchor: { type: 'page_view', path: '/' },
          direction: 'next' as const,
          depth: 2,
          limit: 10,
        },
        {
          range: ALL,
          anchor: { type: 'order_completed' },
          direction: 'previous' as const,
          depth: 3,
          limit: 20,
        },
        { range: ALL, anchor: { type: 'add_to_cart' }, direction: 'next' as const, depth: 1, limit: 5 },
      ];
      for (const p of variants) {
        const got = await pathsQuery(events, p);
        expect(got).toEqual(refPaths(data, p));
        expect(got.anchors).toBeGreaterThan(0);
      }
      expect(await browseDepthQuery(events, ALL)).toEqual(refBrowseDepth(data, ALL));
      expect(await browseDepthQuery(events, PART)).toEqual(refBrowseDepth(data, PART));
    });

    it('dwell: engaged time and scroll depth per page, product and category', async () => {
      for (const by of ['path', 'product_id', 'category'] as const) {
        for (const range of [ALL, PART]) {
          const got = await dwellQuery(events, { range, by, limit: 50 });
          expect(got).toEqual(refDwell(data, range, by, 50));
          expect(got.rows.length).toBeGreaterThan(0);
        }
      }
    });

    it('search: top and zero-result queries, CTR, positions, conversion and exits', async () => {
      for (const range of [ALL, PART]) {
        const got = await searchQuery(events, { range, limit: 20 });
        expect(got).toEqual(refSearch(data, range, 20));
        expect(got.zeroResultQueries.length).toBeGreaterThan(0);
      }
    });

    it('cart: abandonment, abandoned value, per-product rates and cart size', async () => {
      for (const range of [ALL, PART]) {
        const got = await cartQuery(events, { range, limit: 20 });
        expect(got).toEqual(refCart(data, range, 20));
        expect(got.abandonedCarts).toBeGreaterThan(0);
        expect(got.purchasedCarts).toBeGreaterThan(0);
      }
    });

    it('retention: weekly and monthly cohorts by first visit and first purchase', async () => {
      const asOf = FIXTURE_START + 35 * DAY_MS;
      for (const cohortBy of ['first_visit', 'first_purchase'] as const) {
        for (const period of ['week', 'month'] as const) {
          const p = { range: ALL, cohortBy, period, periods: period === 'week' ? 12 : 3 };
          const got = await retentionQuery(events, p, asOf);
          expect(got).toEqual(refRetention(data, p, asOf));
          expect(got.cohorts.length).toBeGreaterThan(0);
        }
      }
      const p = {
        range: PART,
        cohortBy: 'first_visit' as const,
        period: 'week' as const,
        periods: 4,
        returnType: 'order_completed',
      };
      expect(await retentionQuery(events, p, asOf)).toEqual(refRetention(data, p, asOf));
    });

    it('differential privacy: bounded per-day contributions before noise', async () => {
      for (const b of [
        { maxDaysPerShopper: 1, maxOrdersPerDay: 1, maxRevenuePerDay: 50 },
        { maxDaysPerShopper: 3, maxOrdersPerDay: 2, maxRevenuePerDay: 500 },
      ]) {
        const got = await boundedDailyTotals(events, PART, b);
        expect(got).toEqual(refBoundedDaily(data, PART, b));
        expect(got.some((d) => d.revenue > 0)).toBe(true);
      }
    });

    it('reviews: rating distribution overall and per product', async () => {
      for (const range of [ALL, PART]) {
        const got = await reviewsQuery(events, { range, limit: 20 });
        expect(got).toEqual(refReviews(data, range, 20));
        expect(got.reviews).toBeGreaterThan(0);
      }
    });

    // Last, because it appends: its own shoppers, in days after the fixture, so no range above sees them.
    it('overview, search and cart: null sessions, a session of two shoppers, an order id seen twice', async () => {
      const day0 = FIXTURE_START + 200 * DAY_MS;
      const edge = { from: day0, to: day0 + 2 * DAY_MS };
      let seq = 0;
      const ev = (
        subjectId: string,
        sessionId: string | null,
        ts: number,
        type: string,
        f: Partial<EventRecord> = {},
      ): EventRecord => ({
        eventId: `edge-${String(seq++).padStart(3, '0')}`,
        sourceId: 'src_test',
        subjectId,
        anonymousId: subjectId,
        userId: null,
        sessionId,
        type,
        purpose: 'analytics',
        consentId: null,
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
        deviceClass: null,
        country: null,
        region: null,
        utmSource: null,
        props: '{}',
        ...f,
      });
      const h = 3_600_000;
      const extra = [
        ev('edge-a', 'edge-s1', day0 + h, 'page_view', { path: '/' }),
        ev('edge-b', 'edge-s1', day0 + 2 * h, 'search', { query: ' Shoes ', props: '{"resultsCount":3}' }),
        ev('edge-b', 'edge-s1', day0 + 3 * h, 'add_to_cart', { productId: 'p01', quantity: 2, revenue: 20 }),
        ev('edge-a', 'edge-s1', day0 + 4 * h, 'order_completed', { orderId: 'edge-o1', revenue: 20 }),
        ev('edge-a', null, day0 + 5 * h, 'search', { query: 'shoes', props: '{"resultsCount":0}' }),
        ev('edge-a', null, day0 + 26 * h, 'order_completed', { revenue: 7.5 }),
        ev('edge-c', 'edge-s2', day0 + 23 * h + 59 * 60_000, 'add_to_cart', { productId: 'p02', revenue: 5 }),
        ev('edge-c', 'edge-s2', day0 + 24 * h + 60_000, 'order_completed', {
          orderId: 'edge-o1',
          revenue: 5,
        }),
      ];
      await events.append(extra);
      const got = await overviewQuery(events, { range: edge });
      const want = refOverview(extra, edge);
      expect(got.current).toEqual(want.current);
      expect(got.current.totals).toMatchObject({ sessions: 2, shoppers: 3, convertedSessions: 2, orders: 2 });
      expect(await searchQuery(events, { range: edge, limit: 20 })).toEqual(refSearch(extra, edge, 20));
      expect(await cartQuery(events, { range: edge, limit: 20 })).toEqual(refCart(extra, edge, 20));
    });
  });
}
