/**
 * Overview: sessions, shoppers, conversion rate, revenue and average order value, per UTC day and in
 * total, for a period and a comparison period (by default the period of the same length just before).
 */
import { sql } from 'kysely';
import type { EventStore } from '../../storage/ports.ts';
import { DAY_MS, dayOf, inRange, msOf, num, ratio, round, type TimeRange } from './sql.ts';

export type OverviewFigures = {
  sessions: number;
  shoppers: number;
  /** Sessions with at least one `order_completed`. */
  convertedSessions: number;
  orders: number;
  revenue: number;
  /** convertedSessions / sessions; null when there were no sessions. */
  conversionRate: number | null;
  /** revenue / orders; null when there were no orders. */
  averageOrderValue: number | null;
};

export type OverviewDay = OverviewFigures & { day: string };

export type OverviewPeriod = { from: number; to: number; totals: OverviewFigures; days: OverviewDay[] };

export type OverviewResult = {
  current: OverviewPeriod;
  comparison: OverviewPeriod;
  /** Relative change current vs comparison per figure (0.1 = +10 %); null when the comparison is 0. */
  change: Record<keyof OverviewFigures, number | null>;
};

export type OverviewParams = { range: TimeRange; compare?: TimeRange };

export function figures(
  sessions: number,
  shoppers: number,
  converted: number,
  orders: number,
  revenue: number,
): OverviewFigures {
  const r = round(revenue, 2);
  return {
    sessions,
    shoppers,
    convertedSessions: converted,
    orders,
    revenue: r,
    conversionRate: ratio(converted, sessions),
    averageOrderValue: orders === 0 ? null : round(r / orders, 2),
  };
}

export function dayLabel(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

type Row = {
  day: unknown;
  g: unknown;
  sessions: unknown;
  shoppers: unknown;
  converted: unknown;
  orders: unknown;
  revenue: unknown;
};

async function period(events: EventStore, range: TimeRange): Promise<OverviewPeriod> {
  const d = events.dialect;
  const day = dayOf(d, msOf(d));
  // Distinct counts over millions of events are the cost, so they are taken in two steps: first one row
  // per (day, session, shopper), a plain GROUP BY (sessions have a handful of events each), kept
  // materialised; then each figure is a count of groups of those far fewer rows, per day and over the
  // period (distinct counts do not add up across days). Each figure has its own plain GROUP BY: one
  // GROUPING SETS over the four groupings cost half as much again on DuckDB. A missing session id is no
  // session. Orders (few) are counted apart, by their order id.
  const result = await sql<Row>`
    with s as materialized (
      select ${day} as day, session_id, subject_id,
        max(case when type = 'order_completed' then 1 else 0 end) as conv
      from events where ${inRange(range)}
      group by 1, 2, 3
    ),
    ds as (select day, session_id, max(conv) as conv from s group by day, session_id),
    a as (
      select day, count(session_id) as sessions,
        sum(case when session_id is null then 0 else conv end) as converted
      from ds group by day
    ),
    b as (select day, count(*) as shoppers from (select day, subject_id from s group by day, subject_id) x group by day),
    ps as (
      select count(session_id) as sessions, sum(case when session_id is null then 0 else conv end) as converted
      from (select session_id, max(conv) as conv from ds group by session_id) x
    ),
    pb as (select count(*) as shoppers from (select subject_id from s group by subject_id) x),
    o as (
      select ${day} as day, coalesce(order_id, event_id) as order_key, sum(revenue) as revenue
      from events where ${inRange(range)} and type = 'order_completed'
      group by 1, 2
    )
    select a.day, 0 as g, a.sessions, b.shoppers, a.converted, cast(null as bigint) as orders,
      cast(null as double precision) as revenue
    from a join b on b.day = a.day
    union all
    select null, 1, ps.sessions, pb.shoppers, coalesce(ps.converted, 0), null, null from ps cross join pb
    union all
    select day, grouping(day) as g, null, null, null, count(distinct order_key), sum(revenue)
    from o group by grouping sets ((day), ())`.execute(events.db);
  const acc = new Map<number | null, [number, number, number, number, number]>();
  for (const r of result.rows) {
    const key = num(r.g) === 1 ? null : num(r.day);
    const a = acc.get(key) ?? [0, 0, 0, 0, 0];
    if (r.sessions !== null && r.sessions !== undefined) {
      a[0] = num(r.sessions);
      a[1] = num(r.shoppers);
      a[2] = num(r.converted);
    } else {
      a[3] = num(r.orders);
      a[4] = num(r.revenue);
    }
    acc.set(key, a);
  }
  let totals = figures(0, 0, 0, 0, 0);
  const days: OverviewDay[] = [];
  for (const [key, a] of acc) {
    const f = figures(...a);
    if (key === null) totals = f;
    else days.push({ day: dayLabel(key), ...f });
  }
  days.sort((a, b) => (a.day < b.day ? -1 : 1));
  return { from: range.from, to: range.to, totals, days };
}

function change(a: number | null, b: number | null): number | null {
  if (a === null || b === null || b === 0) return null;
  return round((a - b) / b, 6);
}

export async function overviewQuery(events: EventStore, params: OverviewParams): Promise<OverviewResult> {
  const { range } = params;
  const compare = params.compare ?? { from: range.from - (range.to - range.from), to: range.from };
  // Two statements on two connections: while one waits on a single-threaded phase the other runs.
  const [current, comparison] = await Promise.all([period(events, range), period(events, compare)]);
  const keys = Object.keys(current.totals) as (keyof OverviewFigures)[];
  const delta = Object.fromEntries(
    keys.map((k) => [k, change(current.totals[k], comparison.totals[k])]),
  ) as Record<keyof OverviewFigures, number | null>;
  return { current, comparison, change: delta };
}
