/**
 * k-anonymity for the review-sentiment, forecast and demographics answers, the same rule as
 * k-anonymity.ts: a group counted over fewer than k distinct shoppers is left out for non-privileged
 * viewers and `privacy.suppressedGroups` says how many were. The per-review list describes one shopper per
 * row, so non-privileged viewers get it empty (its rows count as suppressed).
 */
import type { DemographicsResult } from './demographics.query.ts';
import type { ForecastResult } from './forecast.query.ts';
import type { WithPrivacy } from './k-anonymity.ts';
import type { ReviewSentimentResult } from './review-sentiment.query.ts';

function keeper(k: number) {
  let n = 0;
  return {
    keep<T>(rows: readonly T[], shoppers: (r: T) => number): T[] {
      const out = rows.filter((r) => shoppers(r) >= k);
      n += rows.length - out.length;
      return out;
    },
    drop(rows: readonly unknown[]): [] {
      n += rows.length;
      return [];
    },
    get count() {
      return n;
    },
  };
}

const open = <T>(r: T, k: number | null): WithPrivacy<T> => ({
  ...r,
  privacy: { kAnonymity: k, suppressedGroups: 0 },
});

export const suppressInsights = {
  reviewSentiment(r: ReviewSentimentResult, k: number | null): WithPrivacy<ReviewSentimentResult> {
    if (k === null || k <= 1) return open(r, k);
    const c = keeper(k);
    const products = c.keep(r.products, (p) => p.shoppers);
    const reviewList = c.drop(r.reviewList);
    return { ...r, products, reviewList, privacy: { kAnonymity: k, suppressedGroups: c.count } };
  },
  forecast(r: ForecastResult, k: number | null): WithPrivacy<ForecastResult> {
    if (k === null || k <= 1) return open(r, k);
    const c = keeper(k);
    const series = c.keep(r.series, (s) => s.shoppers);
    return { ...r, series, privacy: { kAnonymity: k, suppressedGroups: c.count } };
  },
  demographics(r: DemographicsResult, k: number | null): WithPrivacy<DemographicsResult> {
    if (k === null || k <= 1) return open(r, k);
    const c = keeper(k);
    const by = (g: { shoppers: number }) => g.shoppers;
    const result = {
      ...r,
      ageBand: c.keep(r.ageBand, by),
      gender: c.keep(r.gender, by),
      region: c.keep(r.region, by),
    };
    return { ...result, privacy: { kAnonymity: k, suppressedGroups: c.count } };
  },
};
