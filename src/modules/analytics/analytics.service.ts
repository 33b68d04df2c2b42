/**
 * The analytics service: every behaviour query over the event store, with k-anonymity applied for
 * non-privileged viewers, and differentially private reports that spend the shop's privacy budget.
 */
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import type { EventStore, StateStore } from '../../storage/ports.ts';
import { cartQuery, type CartParams, type CartResult } from './cart.query.ts';
import { boundedDailyTotals, type ContributionBounds } from './dp-reports.query.ts';
import { noisy, summedNoiseHalfWidth, type NoisyValue } from './dp-noise.ts';
import {
  demographicsQuery,
  type DemographicsParams,
  type DemographicsReader,
  type DemographicsResult,
} from './demographics.query.ts';
import { dwellQuery, type DwellParams, type DwellResult } from './dwell.query.ts';
import { forecastQuery, type ForecastParams, type ForecastResult } from './forecast.query.ts';
import { funnelQuery, type FunnelParams, type FunnelResult } from './funnel.query.ts';
import { suppress, type WithPrivacy } from './k-anonymity.ts';
import { suppressInsights } from './k-anonymity-insights.ts';
import { dayLabel, overviewQuery, type OverviewParams, type OverviewResult } from './overview.query.ts';
import {
  browseDepthQuery,
  pathsQuery,
  type BrowseDepthResult,
  type PathsParams,
  type PathsResult,
} from './paths.query.ts';
import {
  createPrivacyBudget,
  type BudgetStatus,
  type PrivacyBudgetConfig,
  type Released,
} from './privacy-budget.ts';
import { retentionQuery, type RetentionParams, type RetentionResult } from './retention.query.ts';
import {
  reviewSentimentQuery,
  type ReviewSentimentParams,
  type ReviewSentimentResult,
} from './review-sentiment.query.ts';
import { reviewsQuery, type ReviewsParams, type ReviewsResult } from './reviews.query.ts';
import { defaultSentimentModel } from './sentiment/default-model.ts';
import type { SentimentModel } from './sentiment/model.ts';
import { searchQuery, type SearchParams, type SearchResult } from './search.query.ts';
import { DAY_MS, isEventProperty, type TimeRange } from './sql.ts';

/** Who is asking: privileged viewers (owner, or a key with raw access) see groups smaller than k. */
export type Viewer = { privileged: boolean; actor: string };

export type DpOverviewParams = { range: TimeRange; epsilon: number } & Partial<ContributionBounds>;

export type DpOverviewResult = {
  bounds: ContributionBounds;
  days: { day: string; shoppers: NoisyValue; orders: NoisyValue; revenue: NoisyValue }[];
  totals: { shopperDays: NoisyValue; orders: NoisyValue; revenue: NoisyValue };
};

export type DpFunnelParams = Omit<FunnelParams, 'breakdown' | 'dropOff' | 'breakdownLimit'> & {
  epsilon: number;
};

export type DpFunnelResult = { steps: { step: number; type: string; shoppers: NoisyValue }[] };

export type AnalyticsService = {
  overview(p: OverviewParams, viewer: Viewer): Promise<WithPrivacy<OverviewResult>>;
  funnel(p: FunnelParams, viewer: Viewer): Promise<WithPrivacy<FunnelResult>>;
  paths(p: PathsParams, viewer: Viewer): Promise<WithPrivacy<PathsResult>>;
  browseDepth(range: TimeRange, viewer: Viewer): Promise<WithPrivacy<BrowseDepthResult>>;
  dwell(p: DwellParams, viewer: Viewer): Promise<WithPrivacy<DwellResult>>;
  search(p: SearchParams, viewer: Viewer): Promise<WithPrivacy<SearchResult>>;
  cart(p: CartParams, viewer: Viewer): Promise<WithPrivacy<CartResult>>;
  retention(p: RetentionParams, viewer: Viewer): Promise<WithPrivacy<RetentionResult>>;
  reviews(p: ReviewsParams, viewer: Viewer): Promise<WithPrivacy<ReviewsResult>>;
  dpOverview(p: DpOverviewParams, viewer: Viewer): Promise<Released<DpOverviewResult>>;
  dpFunnel(p: DpFunnelParams, viewer: Viewer): Promise<Released<DpFunnelResult>>;
  budget(): Promise<BudgetStatus>;
  reviewSentiment(p: ReviewSentimentParams, viewer: Viewer): Promise<WithPrivacy<ReviewSentimentResult>>;
  forecast(p: ForecastParams, viewer: Viewer): Promise<WithPrivacy<ForecastResult>>;
  demographics(p: DemographicsParams, viewer: Viewer): Promise<WithPrivacy<DemographicsResult>>;
};

export type AnalyticsDeps = {
  events: EventStore;
  state: StateStore;
  clock: Clock;
  /** Declared, consented age band / gender / region (profiles); without it demographics are unavailable. */
  demographics?: DemographicsReader;
  /** The review-sentiment classifier; default: the built-in model. */
  sentiment?: SentimentModel;
};

export type AnalyticsConfig = {
  /** Groups under this many shoppers are suppressed for non-privileged viewers (config privacy.kAnonymity). */
  kAnonymity: number;
  privacyBudget: PrivacyBudgetConfig;
};

export const DEFAULT_BOUNDS: ContributionBounds = {
  maxDaysPerShopper: 7,
  maxOrdersPerDay: 2,
  maxRevenuePerDay: 500,
};
export const MAX_RANGE_DAYS = 400;
export const MAX_DP_RANGE_DAYS = 92;

function invalid(message: string): AppError {
  return new AppError('invalid_request', message);
}

function checkRange(r: TimeRange, maxDays = MAX_RANGE_DAYS, name = 'range'): void {
  if (!Number.isFinite(r.from) || !Number.isFinite(r.to) || r.from >= r.to) {
    throw invalid(`The ${name} is empty: 'from' must be before 'to' (ISO dates or times, UTC).`);
  }
  if (r.to - r.from > maxDays * DAY_MS)
    throw invalid(`The ${name} spans more than ${maxDays} days; ask for a shorter one.`);
}

function checkProperty(name: string, what: string): void {
  if (!isEventProperty(name)) {
    throw invalid(
      `Unknown ${what} property '${name}'. Use an event column (device_class, country, category, utm_source, …) or props.<key>.`,
    );
  }
}

function checkFunnel(
  p: Omit<FunnelParams, 'breakdown' | 'dropOff'> & Partial<Pick<FunnelParams, 'breakdown' | 'dropOff'>>,
): void {
  checkRange(p.range);
  if (p.steps.length < 2 || p.steps.length > 8) throw invalid('A funnel has 2 to 8 steps.');
  if (!(p.windowMs > 0) || p.windowMs > 90 * DAY_MS)
    throw invalid('The conversion window must be between 1 ms and 90 days.');
  for (const s of p.steps) for (const f of s.filters ?? []) checkProperty(f.property, 'filter');
  if (p.breakdown !== undefined) checkProperty(p.breakdown, 'breakdown');
  if (p.dropOff && (p.dropOff.step < 1 || p.dropOff.step >= p.steps.length)) {
    throw invalid(
      `dropOffStep must be between 1 and ${p.steps.length - 1}: the step whose shoppers did not reach the next one.`,
    );
  }
}

export function createAnalyticsService(deps: AnalyticsDeps, config: AnalyticsConfig): AnalyticsService {
  const { events } = deps;
  const kFor = (v: Viewer) => (v.privileged ? null : config.kAnonymity);
  const budget = createPrivacyBudget({ state: deps.state, clock: deps.clock }, config.privacyBudget);

  return {
    async overview(p, viewer) {
      checkRange(p.range);
      if (p.compare) checkRange(p.compare, MAX_RANGE_DAYS, 'comparison range');
      return suppress.overview(await overviewQuery(events, p), kFor(viewer));
    },
    async funnel(p, viewer) {
      checkFunnel(p);
      return suppress.funnel(await funnelQuery(events, p), kFor(viewer));
    },
    async paths(p, viewer) {
      checkRange(p.range);
      if (p.anchor.type === undefined && p.anchor.path === undefined)
        throw invalid('Give the anchor: an event type, a page path, or both.');
      return suppress.paths(await pathsQuery(events, p), kFor(viewer));
    },
    async browseDepth(range, viewer) {
      checkRange(range);
      return suppress.browseDepth(await browseDepthQuery(events, range), kFor(viewer));
    },
    async dwell(p, viewer) {
      checkRange(p.range);
      return suppress.dwell(await dwellQuery(events, p), kFor(viewer));
    },
    async search(p, viewer) {
      checkRange(p.range);
      return suppress.search(await searchQuery(events, p), kFor(viewer));
    },
    async cart(p, viewer) {
      checkRange(p.range);
      return suppress.cart(await cartQuery(events, p), kFor(viewer));
    },
    async retention(p, viewer) {
      checkRange(p.range);
      return suppress.retention(await retentionQuery(events, p, deps.clock.now().getTime()), kFor(viewer));
    },
    async reviews(p, viewer) {
      checkRange(p.range);
      return suppress.reviews(await reviewsQuery(events, p), kFor(viewer));
    },
    async dpOverview(p, viewer) {
      checkRange(p.range, MAX_DP_RANGE_DAYS);
      const bounds: ContributionBounds = {
        maxDaysPerShopper: p.maxDaysPerShopper ?? DEFAULT_BOUNDS.maxDaysPerShopper,
        maxOrdersPerDay: p.maxOrdersPerDay ?? DEFAULT_BOUNDS.maxOrdersPerDay,
        maxRevenuePerDay: p.maxRevenuePerDay ?? DEFAULT_BOUNDS.maxRevenuePerDay,
      };
      const params = { range: p.range, bounds };
      return budget.release('overview', params, p.epsilon, viewer.actor, async () => {
        const days = await boundedDailyTotals(events, p.range, bounds);
        // ε is split evenly over the three series; within a series one shopper changes at most
        // maxDays × (per-day bound) in total, which is the series' L1 sensitivity.
        const e = p.epsilon / 3;
        const sens = {
          shoppers: bounds.maxDaysPerShopper,
          orders: bounds.maxDaysPerShopper * bounds.maxOrdersPerDay,
          revenue: bounds.maxDaysPerShopper * bounds.maxRevenuePerDay,
        };
        const released = days.map((d) => ({
          day: dayLabel(d.day),
          shoppers: noisy(d.shoppers, e, sens.shoppers),
          orders: noisy(d.orders, e, sens.orders),
          revenue: noisy(d.revenue, e, sens.revenue),
        }));
        // Totals are sums of released values (post-processing): no further budget.
        const total = (k: 'shoppers' | 'orders' | 'revenue'): NoisyValue => {
          const value = released.reduce((a, d) => a + d[k].value, 0);
          const h = summedNoiseHalfWidth(e, sens[k], released.length);
          return { value, epsilon: e, ci95: [value - h, value + h] };
        };
        return {
          bounds,
          days: released,
          totals: { shopperDays: total('shoppers'), orders: total('orders'), revenue: total('revenue') },
        };
      });
    },
    async dpFunnel(p, viewer) {
      checkFunnel(p);
      const params = { range: p.range, steps: p.steps, windowMs: p.windowMs, order: p.order };
      return budget.release('funnel', params, p.epsilon, viewer.actor, async () => {
        const exact = await funnelQuery(events, { ...params });
        // A shopper adds at most 1 to each step's count: each of the n counts gets ε/n with sensitivity 1.
        const e = p.epsilon / p.steps.length;
        return {
          steps: exact.steps.map((s) => ({ step: s.step, type: s.type, shoppers: noisy(s.shoppers, e, 1) })),
        };
      });
    },
    budget: () => budget.status(),
    async reviewSentiment(p, viewer) {
      checkRange(p.range);
      const model = deps.sentiment ?? defaultSentimentModel();
      return suppressInsights.reviewSentiment(await reviewSentimentQuery(events, model, p), kFor(viewer));
    },
    async forecast(p, viewer) {
      if (!Number.isFinite(p.asOf)) throw invalid("'asOf' must be an ISO date or date-time.");
      if (p.historyDays < 28 || p.historyDays > MAX_RANGE_DAYS)
        throw invalid(`historyDays must be between 28 and ${MAX_RANGE_DAYS}.`);
      return suppressInsights.forecast(await forecastQuery(events, p), kFor(viewer));
    },
    async demographics(p, viewer) {
      checkRange(p.range);
      if (!deps.demographics) {
        throw new AppError(
          'precondition_failed',
          'Demographics need the profiles module (declared traits); this installation does not wire it.',
        );
      }
      return suppressInsights.demographics(
        await demographicsQuery(events, deps.demographics, p),
        kFor(viewer),
      );
    },
  };
}
