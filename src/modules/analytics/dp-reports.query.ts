/**
 * Differentially private reports: the true values with every shopper's contribution bounded, ready for
 * noise. Bounding is what makes the sensitivity known: a shopper counts on at most `maxDaysPerShopper`
 * days (their first ones in the range), with at most `maxOrdersPerDay` orders and `maxRevenuePerDay`
 * whole currency units of revenue per day.
 */
import { sql } from 'kysely';
import type { EventStore } from '../../storage/ports.ts';
import { DAY_MS, dayOf, inRange, msOf, num, type TimeRange } from './sql.ts';

export type ContributionBounds = {
  maxDaysPerShopper: number;
  maxOrdersPerDay: number;
  maxRevenuePerDay: number;
};

export type BoundedDay = { day: number; shoppers: number; orders: number; revenue: number };

/** Every day of the range with its bounded totals; days without data are present with zeros (absence would leak). */
export async function boundedDailyTotals(
  events: EventStore,
  range: TimeRange,
  b: ContributionBounds,
): Promise<BoundedDay[]> {
  const d = events.dialect;
  const result = await sql<{ day: unknown; shoppers: unknown; orders: unknown; revenue: unknown }>`
    with per as (
      select subject_id, day,
        least(count(distinct case when type = 'order_completed' then coalesce(order_id, event_id) end), ${sql.lit(b.maxOrdersPerDay)}) as orders,
        least(greatest(floor(coalesce(sum(case when type = 'order_completed' then revenue end), 0) + 0.5), 0), ${sql.lit(b.maxRevenuePerDay)}) as revenue
      from (
        select subject_id, ${dayOf(d, msOf(d))} as day, type, order_id, event_id, revenue from events where ${inRange(range)}
      ) e group by subject_id, day
    ),
    lim as (
      select * from (select per.*, row_number() over (partition by subject_id order by day) as rn from per) x
      where rn <= ${sql.lit(b.maxDaysPerShopper)}
    )
    select day, count(*) as shoppers, sum(orders) as orders, sum(revenue) as revenue from lim group by day`.execute(
    events.db,
  );
  const byDay = new Map(result.rows.map((r) => [num(r.day), r]));
  const out: BoundedDay[] = [];
  for (let day = Math.floor(range.from / DAY_MS); day * DAY_MS < range.to; day++) {
    const r = byDay.get(day);
    out.push({ day, shoppers: num(r?.shoppers), orders: num(r?.orders), revenue: num(r?.revenue) });
  }
  return out;
}
