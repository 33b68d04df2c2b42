/**
 * Dwell: engaged time and scroll depth per page, product or category, from `page_leave` events
 * (`props.engagedMs`, `props.scrollDepth`). Leaves without a value for the grouping are not counted.
 */
import { sql } from 'kysely';
import type { EventStore } from '../../storage/ports.ts';
import { byCountThenKey, inRange, num, numOrNull, propNumber, round, type TimeRange } from './sql.ts';

export type DwellBy = 'path' | 'product_id' | 'category';

export type DwellParams = { range: TimeRange; by: DwellBy; limit: number };

export type DwellRow = {
  key: string;
  leaves: number;
  shoppers: number;
  meanEngagedMs: number | null;
  medianEngagedMs: number | null;
  totalEngagedMs: number;
  /** Mean of `scrollDepth` as the SDK sends it (percent of the page, 0–100). */
  meanScrollDepth: number | null;
};

export type DwellResult = { by: DwellBy; rows: DwellRow[] };

type Row = {
  k: string;
  leaves: unknown;
  shoppers: unknown;
  engaged_n: unknown;
  engaged_sum: unknown;
  engaged_med: unknown;
  scroll_n: unknown;
  scroll_sum: unknown;
};

export async function dwellQuery(events: EventStore, p: DwellParams): Promise<DwellResult> {
  const d = events.dialect;
  const result = await sql<Row>`
    select k, count(*) as leaves, count(distinct subject_id) as shoppers,
      count(engaged) as engaged_n, sum(engaged) as engaged_sum,
      percentile_cont(0.5) within group (order by engaged) as engaged_med,
      count(scroll) as scroll_n, sum(scroll) as scroll_sum
    from (
      select ${sql.ref(p.by)} as k, subject_id, ${propNumber(d, 'engagedMs')} as engaged, ${propNumber(d, 'scrollDepth')} as scroll
      from events where ${inRange(p.range)} and type = 'page_leave' and ${sql.ref(p.by)} is not null
    ) l group by k`.execute(events.db);
  const rows = result.rows.map((r): DwellRow => {
    const en = num(r.engaged_n);
    const sn = num(r.scroll_n);
    const med = numOrNull(r.engaged_med);
    return {
      key: r.k,
      leaves: num(r.leaves),
      shoppers: num(r.shoppers),
      meanEngagedMs: en === 0 ? null : round(num(r.engaged_sum) / en, 3),
      medianEngagedMs: med === null ? null : round(med, 3),
      totalEngagedMs: round(num(r.engaged_sum), 3),
      meanScrollDepth: sn === 0 ? null : round(num(r.scroll_sum) / sn, 3),
    };
  });
  rows.sort(
    byCountThenKey(
      (x) => x.leaves,
      (x) => x.key,
    ),
  );
  return { by: p.by, rows: rows.slice(0, p.limit) };
}
