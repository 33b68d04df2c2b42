/**
 * Reference answers computed the slow, obvious way in TypeScript over the raw events. The tests compare
 * every query's answer on DuckDB and PostgreSQL against these, so the SQL is checked against an
 * independent reading of the same definitions (see each *.query.ts).
 */
import type { EventRecord } from '../../storage/ports.ts';
import { TIME_TO_CONVERT_BUCKETS, NONE, type FunnelParams, type FunnelStep } from './funnel.query.ts';
import { BROWSE_TYPES, ENTRANCE, EXIT, depthStats, type PathsParams } from './paths.query.ts';
import { periodIndex, periodStart, type RetentionParams } from './retention.query.ts';
import { MAX_SIZE_BUCKET } from './cart.query.ts';
import { figures, dayLabel } from './overview.query.ts';
import { DAY_MS, byCountThenKey, byteCompare, ratio, round, type TimeRange } from './sql.ts';

const inR = (e: EventRecord, r: TimeRange) => e.ts >= r.from && e.ts < r.to;
const props = (e: EventRecord): Record<string, unknown> => JSON.parse(e.props) as Record<string, unknown>;
const propNum = (e: EventRecord, k: string): number | null => {
  const v = props(e)[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};
const byTime = (a: EventRecord, b: EventRecord) => a.ts - b.ts || byteCompare(a.eventId, b.eventId);

function groupBy<T, K>(xs: readonly T[], key: (x: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}

const distinct = <T>(xs: readonly T[]) => new Set(xs).size;

/** Linear-interpolation median (percentile_cont(0.5)). */
export function medianCont(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) / 2;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.ceil(pos)]! - s[lo]!) * (pos - lo);
}

function overviewPeriod(all: readonly EventRecord[], range: TimeRange) {
  const evs = all.filter((e) => inR(e, range));
  const fig = (xs: EventRecord[]) => {
    const orders = xs.filter((e) => e.type === 'order_completed');
    return figures(
      distinct(xs.map((e) => e.sessionId).filter((s) => s !== null)),
      distinct(xs.map((e) => e.subjectId)),
      distinct(orders.map((e) => e.sessionId).filter((s) => s !== null)),
      distinct(orders.map((e) => e.orderId ?? e.eventId)),
      orders.reduce((a, e) => a + (e.revenue ?? 0), 0),
    );
  };
  const days = [...groupBy(evs, (e) => Math.floor(e.ts / DAY_MS))]
    .sort(([a], [b]) => a - b)
    .map(([day, xs]) => ({ day: dayLabel(day), ...fig(xs) }));
  return { from: range.from, to: range.to, totals: fig(evs), days };
}

export function refOverview(all: readonly EventRecord[], range: TimeRange) {
  const compare = { from: range.from - (range.to - range.from), to: range.from };
  return { current: overviewPeriod(all, range), comparison: overviewPeriod(all, compare) };
}

function propValue(e: EventRecord, property: string): string | null {
  if (property.startsWith('props.')) {
    const v = props(e)[property.slice(6)];
    return v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v);
  }
  const key = property.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof EventRecord;
  const v = e[key];
  return v === null || v === undefined ? null : String(v);
}

function matches(e: EventRecord, s: FunnelStep): boolean {
  if (e.type !== s.type) return false;
  for (const f of s.filters ?? []) {
    const values = typeof f.value === 'string' ? [f.value] : [...f.value];
    const v = propValue(e, f.property);
    const hit = v !== null && values.includes(v);
    if (f.op === 'eq' ? !hit : hit) return false;
  }
  return true;
}

type Per = { subjectId: string; b: string | null; depth: number; tconv: number | null };

function perShopper(all: readonly EventRecord[], p: FunnelParams): Per[] {
  const n = p.steps.length;
  const out: Per[] = [];
  const bOf = (e: EventRecord) => (p.breakdown ? propValue(e, p.breakdown) : null);
  for (const [subjectId, xs] of groupBy(
    all.filter((e) => inR(e, p.range)),
    (e) => e.subjectId,
  )) {
    const evs = [...xs].sort(byTime);
    if (p.order === 'strict') {
      let best: Per | null = null;
      evs.forEach((e, i) => {
        if (!matches(e, p.steps[0]!)) return;
        let depth = 1;
        while (depth < n) {
          const next = evs[i + depth];
          if (!next || !matches(next, p.steps[depth]!) || next.ts > e.ts + p.windowMs) break;
          depth++;
        }
        const tconv = depth === n ? evs[i + n - 1]!.ts - e.ts : null;
        if (!best || depth > best.depth) best = { subjectId, b: bOf(e), depth, tconv };
      });
      if (best) out.push(best);
      continue;
    }
    const anchor = evs.find((e) => matches(e, p.steps[0]!));
    if (!anchor) continue;
    const t1 = anchor.ts;
    const times: (number | null)[] = [t1];
    let prev = t1;
    for (let j = 1; j < n; j++) {
      const after = p.order === 'ordered' ? prev : t1;
      if (p.order === 'ordered' && times[j - 1] === null) {
        times.push(null);
        continue;
      }
      const hit = evs.find((e) => matches(e, p.steps[j]!) && e.ts > after && e.ts <= t1 + p.windowMs);
      times.push(hit ? hit.ts : null);
      if (hit) prev = hit.ts;
    }
    let depth = 1;
    while (depth < n && times[depth] !== null) depth++;
    const tconv = depth === n ? Math.max(...(times as number[])) - t1 : null;
    out.push({ subjectId, b: bOf(anchor), depth, tconv });
  }
  return out;
}

function funnelGroup(per: readonly Per[], p: FunnelParams) {
  const counts = p.steps.map((_, i) => per.filter((x) => x.depth >= i + 1).length);
  const done = per.map((x) => x.tconv).filter((t): t is number => t !== null);
  let lower = 0;
  const timeToConvert = TIME_TO_CONVERT_BUCKETS.map((bk) => {
    const lo = lower;
    lower = bk.upToMs ?? lower;
    return {
      label: bk.label,
      shoppers: done.filter((t) => t >= lo && (bk.upToMs === null || t < bk.upToMs)).length,
    };
  });
  const med = medianCont(done);
  return {
    steps: counts.map((c, i) => ({
      step: i + 1,
      type: p.steps[i]!.type,
      shoppers: c,
      conversionFromStart: ratio(c, counts[0]!),
      conversionFromPrevious: i === 0 ? ratio(c, c) : ratio(c, counts[i - 1]!),
      droppedOff: i === 0 ? 0 : counts[i - 1]! - c,
    })),
    timeToConvert,
    medianTimeToConvertMs: med === null ? null : round(med, 3),
  };
}

export function refFunnel(all: readonly EventRecord[], p: FunnelParams) {
  const per = perShopper(all, p);
  const groups = p.breakdown
    ? [...groupBy(per, (x) => x.b ?? NONE)]
        .map(([value, xs]) => ({ value, ...funnelGroup(xs, p) }))
        .sort(
          byCountThenKey(
            (g) => g.steps[0]!.shoppers,
            (g) => g.value,
          ),
        )
        .slice(0, p.breakdownLimit ?? 50)
    : null;
  return {
    ...funnelGroup(per, p),
    breakdown: groups ? { property: p.breakdown!, groups } : null,
    dropOff: p.dropOff
      ? {
          step: p.dropOff.step,
          subjectIds: per
            .filter((x) => x.depth === p.dropOff!.step)
            .map((x) => x.subjectId)
            .sort(byteCompare)
            .slice(0, p.dropOff.limit),
        }
      : null,
  };
}

const label = (e: EventRecord) => (e.type === 'page_view' && e.path !== null ? e.path : e.type);

export function refPaths(all: readonly EventRecord[], p: PathsParams) {
  const end = p.direction === 'next' ? EXIT : ENTRANCE;
  const occurrences: { subjectId: string; steps: string[] }[] = [];
  const sessions = groupBy(
    all.filter((e) => inR(e, p.range) && e.sessionId !== null && e.type !== 'page_leave'),
    (e) => e.sessionId,
  );
  for (const xs of sessions.values()) {
    const evs = [...xs].sort(byTime);
    evs.forEach((e, i) => {
      if (p.anchor.type !== undefined && e.type !== p.anchor.type) return;
      if (p.anchor.path !== undefined && e.path !== p.anchor.path) return;
      const steps: string[] = [];
      for (let k = 1; k <= p.depth; k++) {
        const other = evs[p.direction === 'next' ? i + k : i - k];
        steps.push(other ? label(other) : end);
        if (!other) break;
      }
      occurrences.push({ subjectId: e.subjectId, steps });
    });
  }
  const agg = (key: (o: (typeof occurrences)[number]) => string) =>
    [...groupBy(occurrences, key)].map(([k, os]) => ({
      key: k,
      count: os.length,
      shoppers: distinct(os.map((o) => o.subjectId)),
    }));
  const steps = agg((o) => o.steps[0]!)
    .map((x) => ({ step: x.key, count: x.count, shoppers: x.shoppers }))
    .sort(
      byCountThenKey(
        (x) => x.count,
        (x) => x.step,
      ),
    )
    .slice(0, p.limit);
  const paths = agg((o) => JSON.stringify(o.steps))
    .map((x) => ({ steps: JSON.parse(x.key) as string[], count: x.count, shoppers: x.shoppers }))
    .sort(
      byCountThenKey(
        (x) => x.count,
        (x) => JSON.stringify(x.steps),
      ),
    )
    .slice(0, p.limit);
  return { anchors: occurrences.length, steps, paths };
}

export function refBrowseDepth(all: readonly EventRecord[], range: TimeRange) {
  const sessions = groupBy(
    all.filter((e) => inR(e, range) && e.sessionId !== null),
    (e) => e.sessionId,
  );
  const perSession = [...sessions.values()].map((xs) => ({
    subject: [...xs.map((e) => e.subjectId)].sort(byteCompare)[0]!,
    depth: xs.filter((e) => (BROWSE_TYPES as readonly string[]).includes(e.type)).length,
  }));
  const histogram = [...groupBy(perSession, (s) => s.depth)]
    .map(([depth, ss]) => ({ depth, sessions: ss.length, shoppers: distinct(ss.map((s) => s.subject)) }))
    .sort((a, b) => a.depth - b.depth);
  return { ...depthStats(histogram), histogram };
}

export function refDwell(
  all: readonly EventRecord[],
  range: TimeRange,
  by: 'path' | 'product_id' | 'category',
  limit: number,
) {
  const key = (e: EventRecord) => (by === 'path' ? e.path : by === 'product_id' ? e.productId : e.category);
  const leaves = all.filter((e) => inR(e, range) && e.type === 'page_leave' && key(e) !== null);
  const rows = [...groupBy(leaves, (e) => key(e)!)].map(([k, xs]) => {
    const engaged = xs.map((e) => propNum(e, 'engagedMs')).filter((v): v is number => v !== null);
    const scroll = xs.map((e) => propNum(e, 'scrollDepth')).filter((v): v is number => v !== null);
    const sum = engaged.reduce((a, v) => a + v, 0);
    const med = medianCont(engaged);
    return {
      key: k,
      leaves: xs.length,
      shoppers: distinct(xs.map((e) => e.subjectId)),
      meanEngagedMs: engaged.length === 0 ? null : round(sum / engaged.length, 3),
      medianEngagedMs: med === null ? null : round(med, 3),
      totalEngagedMs: round(sum, 3),
      meanScrollDepth:
        scroll.length === 0 ? null : round(scroll.reduce((a, v) => a + v, 0) / scroll.length, 3),
    };
  });
  return {
    by,
    rows: rows
      .sort(
        byCountThenKey(
          (x) => x.leaves,
          (x) => x.key,
        ),
      )
      .slice(0, limit),
  };
}

export function refSearch(all: readonly EventRecord[], range: TimeRange, limit: number) {
  const evs = all.filter((e) => inR(e, range));
  const norm = (q: string | null) => (q === null ? null : q.trim().toLowerCase());
  const sessions = groupBy(
    evs.filter((e) => e.sessionId !== null),
    (e) => e.sessionId!,
  );
  const maxTs = (sid: string, pred: (e: EventRecord) => boolean) => {
    const ts = (sessions.get(sid) ?? []).filter(pred).map((e) => e.ts);
    return ts.length ? Math.max(...ts) : null;
  };
  const after = (sid: string, type: string, t: number) => {
    const m = maxTs(sid, (e) => e.type === type);
    return m !== null && m > t;
  };
  const searches = evs.filter((e) => e.type === 'search' && e.query !== null);
  const clicks = evs.filter((e) => e.type === 'search_click' && e.query !== null);
  const isExit = (s: EventRecord) => {
    if (s.sessionId === null) return false;
    const last = maxTs(s.sessionId, (e) => e.type !== 'page_leave');
    return last !== null && s.ts >= last;
  };
  const rows = [...groupBy(searches, (e) => norm(e.query)!)].map(([query, xs]) => {
    const pairs = [
      ...groupBy(
        xs.filter((e) => e.sessionId !== null),
        (e) => e.sessionId!,
      ),
    ].map(([sid, ss]) => ({ sid, first: Math.min(...ss.map((e) => e.ts)) }));
    const qc = clicks.filter((c) => norm(c.query) === query);
    const clickedSessions = pairs.filter((pr) => qc.some((c) => c.sessionId === pr.sid)).length;
    const carted = pairs.filter((pr) => after(pr.sid, 'add_to_cart', pr.first)).length;
    const purchased = pairs.filter((pr) => after(pr.sid, 'order_completed', pr.first)).length;
    const positions = qc.map((c) => propNum(c, 'position')).filter((v): v is number => v !== null);
    return {
      query,
      searches: xs.length,
      shoppers: distinct(xs.map((e) => e.subjectId)),
      zeroResultSearches: xs.filter((e) => propNum(e, 'resultsCount') === 0).length,
      searchSessions: pairs.length,
      clickedSessions,
      clickThroughRate: ratio(clickedSessions, pairs.length),
      clicks: qc.length,
      meanClickPosition: positions.length
        ? round(positions.reduce((a, v) => a + v, 0) / positions.length, 6)
        : null,
      cartSessions: carted,
      purchaseSessions: purchased,
      searchToCartRate: ratio(carted, pairs.length),
      searchToPurchaseRate: ratio(purchased, pairs.length),
      exits: xs.filter(isExit).length,
    };
  });
  const firstBySession = [
    ...groupBy(
      searches.filter((e) => e.sessionId !== null),
      (e) => e.sessionId!,
    ),
  ].map(([sid, ss]) => ({ sid, first: Math.min(...ss.map((e) => e.ts)) }));
  const carted = firstBySession.filter((x) => after(x.sid, 'add_to_cart', x.first)).length;
  const purchased = firstBySession.filter((x) => after(x.sid, 'order_completed', x.first)).length;
  const ranked = (count: (r: (typeof rows)[number]) => number) =>
    rows
      .filter((r) => count(r) > 0)
      .sort(byCountThenKey(count, (r) => r.query))
      .slice(0, limit);
  return {
    totals: {
      searches: searches.length,
      shoppers: distinct(searches.map((e) => e.subjectId)),
      zeroResultSearches: searches.filter((e) => propNum(e, 'resultsCount') === 0).length,
      searchSessions: firstBySession.length,
      cartSessions: carted,
      purchaseSessions: purchased,
      searchToCartRate: ratio(carted, firstBySession.length),
      searchToPurchaseRate: ratio(purchased, firstBySession.length),
      exits: searches.filter(isExit).length,
    },
    topQueries: ranked((r) => r.searches),
    zeroResultQueries: ranked((r) => r.zeroResultSearches),
    exitQueries: ranked((r) => r.exits),
  };
}

export function refCart(all: readonly EventRecord[], range: TimeRange, limit: number) {
  const evs = all.filter(
    (e) =>
      inR(e, range) &&
      e.sessionId !== null &&
      ['add_to_cart', 'remove_from_cart', 'order_completed'].includes(e.type),
  );
  const carts = [...groupBy(evs, (e) => e.sessionId!)]
    .filter(([, xs]) => xs.some((e) => e.type === 'add_to_cart'))
    .map(([sid, xs]) => {
      const adds = xs.filter((e) => e.type === 'add_to_cart');
      const removes = xs.filter((e) => e.type === 'remove_from_cart');
      const orders = xs.filter((e) => e.type === 'order_completed');
      const firstAdd = Math.min(...adds.map((e) => e.ts));
      const units = (ys: EventRecord[]) => ys.reduce((a, e) => a + (e.quantity ?? 1), 0);
      const value = (ys: EventRecord[]) => ys.reduce((a, e) => a + (e.revenue ?? 0), 0);
      return {
        sid,
        subject: [...xs.map((e) => e.subjectId)].sort(byteCompare)[0]!,
        bought: orders.length > 0 && Math.max(...orders.map((e) => e.ts)) > firstAdd,
        size: Math.max(units(adds) - units(removes), 0),
        value: Math.max(value(adds) - value(removes), 0),
        products: new Set(adds.map((e) => e.productId).filter((x) => x !== null)),
        categories: new Set(adds.map((e) => e.category).filter((x) => x !== null)),
      };
    });
  const n = carts.length;
  const bought = carts.filter((c) => c.bought).length;
  const per = (key: (c: (typeof carts)[number]) => Set<string | null>) => {
    const m = new Map<string, typeof carts>();
    for (const c of carts) for (const k of key(c)) if (k !== null) m.set(k, [...(m.get(k) ?? []), c]);
    return [...m];
  };
  return {
    carts: n,
    shoppers: distinct(carts.map((c) => c.subject)),
    purchasedCarts: bought,
    abandonedCarts: n - bought,
    abandonmentRate: ratio(n - bought, n),
    abandonedValue: round(
      carts.filter((c) => !c.bought).reduce((a, c) => a + c.value, 0),
      2,
    ),
    meanCartSize: n === 0 ? null : round(carts.reduce((a, c) => a + c.size, 0) / n, 6),
    sizeHistogram: [...groupBy(carts, (c) => Math.min(c.size, MAX_SIZE_BUCKET))]
      .map(([size, cs]) => ({ size, carts: cs.length, shoppers: distinct(cs.map((c) => c.subject)) }))
      .sort((a, b) => a.size - b.size),
    products: per((c) => c.products)
      .map(([productId, cs]) => ({
        productId,
        carts: cs.length,
        shoppers: distinct(cs.map((c) => c.subject)),
        purchasedCarts: cs.filter((c) => c.bought).length,
        addToPurchaseRate: ratio(cs.filter((c) => c.bought).length, cs.length),
      }))
      .sort(
        byCountThenKey(
          (x) => x.carts,
          (x) => x.productId,
        ),
      )
      .slice(0, limit),
    categories: per((c) => c.categories)
      .map(([category, cs]) => ({
        category,
        carts: cs.length,
        shoppers: distinct(cs.map((c) => c.subject)),
        share: ratio(cs.length, n),
      }))
      .sort(
        byCountThenKey(
          (x) => x.carts,
          (x) => x.category,
        ),
      )
      .slice(0, limit),
  };
}

export function refRetention(all: readonly EventRecord[], p: RetentionParams, asOf: number) {
  const firsts = new Map<string, number>();
  for (const e of all) {
    if (p.cohortBy === 'first_purchase' && e.type !== 'order_completed') continue;
    const prev = firsts.get(e.subjectId);
    if (prev === undefined || e.ts < prev) firsts.set(e.subjectId, e.ts);
  }
  const members = [...firsts].filter(([, t]) => t >= p.range.from && t < p.range.to);
  const current = periodIndex(p.period, asOf);
  const cohorts = [...groupBy(members, ([, t]) => periodIndex(p.period, t))]
    .sort(([a], [b]) => a - b)
    .map(([index, ms]) => {
      const ids = new Set(ms.map(([s]) => s));
      const returned = Array.from({ length: p.periods }, (_, k) => {
        const active = new Set(
          all
            .filter(
              (e) =>
                ids.has(e.subjectId) &&
                e.ts >= p.range.from &&
                (p.returnType === undefined || e.type === p.returnType) &&
                periodIndex(p.period, e.ts) === index + k,
            )
            .map((e) => e.subjectId),
        );
        return index + k > current && active.size === 0 ? null : active.size;
      });
      return {
        cohort: periodStart(p.period, index),
        size: ids.size,
        returned,
        rates: returned.map((n) => (n === null ? null : ratio(n, ids.size))),
      };
    });
  return { period: p.period, cohortBy: p.cohortBy, cohorts };
}

export function refReviews(all: readonly EventRecord[], range: TimeRange, limit: number) {
  const reviews = all
    .filter((e) => inR(e, range) && e.type === 'review_submitted')
    .map((e) => ({ e, rating: propNum(e, 'rating') }))
    .filter(
      (x): x is { e: EventRecord; rating: number } => x.rating !== null && [1, 2, 3, 4, 5].includes(x.rating),
    );
  const dist = (xs: typeof reviews) => ({
    reviews: xs.length,
    meanRating: xs.length === 0 ? null : round(xs.reduce((a, x) => a + x.rating, 0) / xs.length, 6),
    counts: {
      '1': xs.filter((x) => x.rating === 1).length,
      '2': xs.filter((x) => x.rating === 2).length,
      '3': xs.filter((x) => x.rating === 3).length,
      '4': xs.filter((x) => x.rating === 4).length,
      '5': xs.filter((x) => x.rating === 5).length,
    },
  });
  const products = [
    ...groupBy(
      reviews.filter((x) => x.e.productId !== null),
      (x) => x.e.productId!,
    ),
  ]
    .map(([productId, xs]) => ({ productId, shoppers: distinct(xs.map((x) => x.e.subjectId)), ...dist(xs) }))
    .sort(
      byCountThenKey(
        (x) => x.reviews,
        (x) => x.productId,
      ),
    )
    .slice(0, limit);
  return { ...dist(reviews), shoppers: distinct(reviews.map((x) => x.e.subjectId)), products };
}

export function refBoundedDaily(
  all: readonly EventRecord[],
  range: TimeRange,
  b: { maxDaysPerShopper: number; maxOrdersPerDay: number; maxRevenuePerDay: number },
) {
  const perShopper = groupBy(
    all.filter((e) => inR(e, range)),
    (e) => e.subjectId,
  );
  const totals = new Map<number, { shoppers: number; orders: number; revenue: number }>();
  for (const xs of perShopper.values()) {
    const days = [...groupBy(xs, (e) => Math.floor(e.ts / DAY_MS))]
      .sort(([a], [c]) => a - c)
      .slice(0, b.maxDaysPerShopper);
    for (const [day, ds] of days) {
      const orders = ds.filter((e) => e.type === 'order_completed');
      const t = totals.get(day) ?? { shoppers: 0, orders: 0, revenue: 0 };
      t.shoppers += 1;
      t.orders += Math.min(distinct(orders.map((e) => e.orderId ?? e.eventId)), b.maxOrdersPerDay);
      t.revenue += Math.min(
        Math.max(Math.floor(orders.reduce((a, e) => a + (e.revenue ?? 0), 0) + 0.5), 0),
        b.maxRevenuePerDay,
      );
      totals.set(day, t);
    }
  }
  const out = [];
  for (let day = Math.floor(range.from / DAY_MS); day * DAY_MS < range.to; day++) {
    out.push({ day, ...(totals.get(day) ?? { shoppers: 0, orders: 0, revenue: 0 }) });
  }
  return out;
}
