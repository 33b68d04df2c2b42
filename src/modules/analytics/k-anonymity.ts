/**
 * k-anonymity for breakdowns: a group (a day, a query, a product, a path, a cohort, a histogram bucket…)
 * counted over fewer than k distinct shoppers is left out of what non-privileged roles see, and the
 * answer says how many groups were left out. Totals over the whole shop are not breakdowns and stay.
 */
import type { CartResult } from './cart.query.ts';
import type { DwellResult } from './dwell.query.ts';
import type { FunnelResult } from './funnel.query.ts';
import type { OverviewResult } from './overview.query.ts';
import type { BrowseDepthResult, PathsResult } from './paths.query.ts';
import type { RetentionResult } from './retention.query.ts';
import type { ReviewsResult } from './reviews.query.ts';
import type { SearchResult } from './search.query.ts';

export type PrivacyNote = {
  /** The k applied, or null when the caller may see every group. */
  kAnonymity: number | null;
  /** Groups left out because fewer than k shoppers were in them. */
  suppressedGroups: number;
};

export type WithPrivacy<T> = T & { privacy: PrivacyNote };

type Counter = { n: number };

function keep<T>(rows: readonly T[], k: number, shoppers: (row: T) => number, c: Counter): T[] {
  const out = rows.filter((r) => shoppers(r) >= k);
  c.n += rows.length - out.length;
  return out;
}

/** Applies `k` (or nothing when `k` is null) through a result-specific walker. */
function apply<T>(
  result: T,
  k: number | null,
  walk: (r: T, keepRows: <R>(rows: readonly R[], shoppers: (row: R) => number) => R[]) => T,
): WithPrivacy<T> {
  if (k === null || k <= 1) return { ...result, privacy: { kAnonymity: k, suppressedGroups: 0 } };
  const c: Counter = { n: 0 };
  const walked = walk(result, (rows, shoppers) => keep(rows, k, shoppers, c));
  return { ...walked, privacy: { kAnonymity: k, suppressedGroups: c.n } };
}

/** An empty histogram bucket describes nobody, so it stays; a bucket of 1..k-1 shoppers goes. */
const bucketShoppers = (b: { shoppers: number }) =>
  b.shoppers === 0 ? Number.POSITIVE_INFINITY : b.shoppers;

export const suppress = {
  overview: (r: OverviewResult, k: number | null) =>
    apply(r, k, (x, kr) => ({
      ...x,
      current: { ...x.current, days: kr(x.current.days, (d) => d.shoppers) },
      comparison: { ...x.comparison, days: kr(x.comparison.days, (d) => d.shoppers) },
    })),
  funnel: (r: FunnelResult, k: number | null) =>
    apply(r, k, (x, kr) => ({
      ...x,
      timeToConvert: kr(x.timeToConvert, bucketShoppers),
      breakdown: x.breakdown && {
        ...x.breakdown,
        groups: kr(x.breakdown.groups, (g) => g.steps[0]?.shoppers ?? 0).map((g) => ({
          ...g,
          timeToConvert: kr(g.timeToConvert, bucketShoppers),
        })),
      },
    })),
  paths: (r: PathsResult, k: number | null) =>
    apply(r, k, (x, kr) => ({
      ...x,
      steps: kr(x.steps, (s) => s.shoppers),
      paths: kr(x.paths, (s) => s.shoppers),
    })),
  browseDepth: (r: BrowseDepthResult, k: number | null) =>
    apply(r, k, (x, kr) => ({ ...x, histogram: kr(x.histogram, (h) => h.shoppers) })),
  dwell: (r: DwellResult, k: number | null) =>
    apply(r, k, (x, kr) => ({ ...x, rows: kr(x.rows, (d) => d.shoppers) })),
  search: (r: SearchResult, k: number | null) =>
    apply(r, k, (x, kr) => ({
      ...x,
      topQueries: kr(x.topQueries, (q) => q.shoppers),
      zeroResultQueries: kr(x.zeroResultQueries, (q) => q.shoppers),
      exitQueries: kr(x.exitQueries, (q) => q.shoppers),
    })),
  cart: (r: CartResult, k: number | null) =>
    apply(r, k, (x, kr) => ({
      ...x,
      sizeHistogram: kr(x.sizeHistogram, (h) => h.shoppers),
      products: kr(x.products, (p) => p.shoppers),
      categories: kr(x.categories, (p) => p.shoppers),
    })),
  retention: (r: RetentionResult, k: number | null) =>
    apply(r, k, (x, kr) => ({ ...x, cohorts: kr(x.cohorts, (c) => c.size) })),
  reviews: (r: ReviewsResult, k: number | null) =>
    apply(r, k, (x, kr) => ({ ...x, products: kr(x.products, (p) => p.shoppers) })),
};
