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
  // per (day, session, shopper), a plain GROUP BY (sessions have a handful of events each); then each
  // figure is a count of groups of those rows, per day and over the period (distinct counts do not add up
  // across days). Orders (few) are counted apart, by their order id.
  const result = await sql<Row>`
    with s as (
      select ${day} as day, session_id, subject_id,
        max(case when type = 'order_completed' then 1 else 0 end) as conv
      from events where ${inRange(range)}
      group by 1, 2, 3
    ),
    g as (
      select day, grouping(day) as all_days, grouping(session_id) as by_subject, max(conv) as conv,
        case when session_id is null then 0 else 1 end as has_session
      from s
      group by grouping sets ((day, session_id), (session_id), (day, subject_id), (subject_id))
    ),
    o as (
      select ${day} as day, coalesce(order_id, event_id) as order_key, sum(revenue) as revenue
      from events where ${inRange(range)} and type = 'order_completed'
      group by 1, 2
    )
    select day, all_days as g,
      sum(case when by_subject = 0 then has_session else 0 end) as sessions,
      sum(by_subject) as shoppers,
      sum(case when by_subject = 0 then has_session * conv else 0 end) as converted,
      null as orders, null as revenue
    from g group by all_days, day
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
