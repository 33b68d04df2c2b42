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

type Row = {
  day: unknown;
  sessions: unknown;
  shoppers: unknown;
  converted: unknown;
  orders: unknown;
  revenue: unknown;
};

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

async function period(events: EventStore, range: TimeRange): Promise<OverviewPeriod> {
  const d = events.dialect;
  // One scan: per-day rows and the period total (distinct counts do not add up across days).
  const result = await sql<Row>`
    select day,
      count(distinct session_id) as sessions,
      count(distinct subject_id) as shoppers,
      count(distinct case when type = 'order_completed' then session_id end) as converted,
      count(distinct case when type = 'order_completed' then coalesce(order_id, event_id) end) as orders,
      coalesce(sum(case when type = 'order_completed' then revenue end), 0) as revenue
    from (
      select ${dayOf(d, msOf(d))} as day, session_id, subject_id, type, order_id, event_id, revenue
      from events where ${inRange(range)}
    ) e
    group by grouping sets ((day), ())`.execute(events.db);
  let totals = figures(0, 0, 0, 0, 0);
  const days: OverviewDay[] = [];
  for (const r of result.rows) {
    const f = figures(num(r.sessions), num(r.shoppers), num(r.converted), num(r.orders), num(r.revenue));
    if (r.day === null || r.day === undefined) totals = f;
    else days.push({ day: dayLabel(num(r.day)), ...f });
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
  const current = await period(events, range);
  const comparison = await period(events, compare);
  const keys = Object.keys(current.totals) as (keyof OverviewFigures)[];
  const delta = Object.fromEntries(
    keys.map((k) => [k, change(current.totals[k], comparison.totals[k])]),
  ) as Record<keyof OverviewFigures, number | null>;
  return { current, comparison, change: delta };
}
