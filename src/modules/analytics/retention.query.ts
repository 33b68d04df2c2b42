/**
 * Retention: cohorts of shoppers by the week (Monday-based, UTC) or month of their first visit or first
 * purchase, and the share who came back in each following period. A cohort is the shoppers whose first
 * event (of any kind, or their first `order_completed`) in the whole store falls inside the range; they
 * "return" in period k when they have any event (or one of `returnType`) in the k-th period after it.
 */
import { sql, type RawBuilder } from 'kysely';
import type { EventDialect, EventStore } from '../../storage/ports.ts';
import { DAY_MS, dayOf, inRange, msOf, num, ratio, type TimeRange } from './sql.ts';

export type RetentionParams = {
  range: TimeRange;
  cohortBy: 'first_visit' | 'first_purchase';
  period: 'week' | 'month';
  /** Periods per cohort row, including period 0. */
  periods: number;
  returnType?: string;
};

export type RetentionCohort = {
  /** First day of the cohort's period, YYYY-MM-DD. */
  cohort: string;
  size: number;
  /** Returning shoppers in period 0, 1, …; null for periods that have not started yet at `asOf`. */
  returned: (number | null)[];
  rates: (number | null)[];
};

export type RetentionResult = { period: 'week' | 'month'; cohortBy: string; cohorts: RetentionCohort[] };

/** Period number of an epoch-ms expression: weeks since the Monday before 1970-01-01, or months since 1970-01. */
function periodOf(d: EventDialect, period: 'week' | 'month', ms: RawBuilder<number>): RawBuilder<number> {
  if (period === 'week') {
    return d === 'duckdb'
      ? sql<number>`((${dayOf(d, ms)} + 3) // 7)`
      : sql<number>`cast(floor((${dayOf(d, ms)} + 3) / 7.0) as bigint)`;
  }
  const t =
    d === 'duckdb'
      ? sql`make_timestamp(cast(${ms} as bigint) * 1000)`
      : sql`(to_timestamp(${ms} / 1000.0) at time zone 'UTC')`;
  return sql<number>`cast((extract(year from ${t}) - 1970) * 12 + extract(month from ${t}) - 1 as bigint)`;
}

export function periodStart(period: 'week' | 'month', index: number): string {
  if (period === 'week') return new Date((index * 7 - 3) * DAY_MS).toISOString().slice(0, 10);
  return new Date(Date.UTC(1970 + Math.floor(index / 12), index % 12, 1)).toISOString().slice(0, 10);
}

export function periodIndex(period: 'week' | 'month', ms: number): number {
  if (period === 'week') return Math.floor((Math.floor(ms / DAY_MS) + 3) / 7);
  const t = new Date(ms);
  return (t.getUTCFullYear() - 1970) * 12 + t.getUTCMonth();
}

export async function retentionQuery(
  events: EventStore,
  p: RetentionParams,
  asOf: number,
): Promise<RetentionResult> {
  const d = events.dialect;
  const first = p.cohortBy === 'first_purchase' ? sql`where type = 'order_completed'` : sql``;
  const ret = p.returnType !== undefined ? sql`and type = ${p.returnType}` : sql``;
  // One query for the cells and the cohort sizes: both stand on the cohorts `c`, whose first events `f` take
  // a pass over every event of the store; as two queries that pass was made twice.
  const result = await sql<{ c: unknown; k: unknown; n: unknown }>`
    with f as (select subject_id, min(ts) as fts from events ${first} group by subject_id),
    c as (select subject_id, ${periodOf(d, p.period, msOf(d, 'fts'))} as c from f where ${inRange(p.range, 'fts')}),
    a as (
      select distinct subject_id, ${periodOf(d, p.period, msOf(d))} as p
      from events where ts >= ${new Date(p.range.from)} ${ret}
    )
    select c.c as c, a.p - c.c as k, count(*) as n
    from c join a on a.subject_id = c.subject_id
    where a.p >= c.c and a.p < c.c + ${sql.lit(p.periods)}
    group by c.c, a.p - c.c
    union all
    select c, null, count(*) from c group by c`.execute(events.db);
  // A row with no period offset is a cohort's size.
  const sizes = result.rows.filter((r) => r.k === null);
  const cells = result.rows.filter((r) => r.k !== null);
  const current = periodIndex(p.period, asOf);
  const cohorts = sizes
    .map((r) => ({ index: num(r.c), size: num(r.n) }))
    .sort((a, b) => a.index - b.index)
    .map(({ index, size }): RetentionCohort => {
      const returned = Array.from({ length: p.periods }, (_, k): number | null =>
        index + k > current ? null : 0,
      );
      for (const x of cells) {
        if (num(x.c) !== index) continue;
        const k = num(x.k);
        if (returned[k] !== undefined) returned[k] = num(x.n);
      }
      return {
        cohort: periodStart(p.period, index),
        size,
        returned,
        rates: returned.map((n) => (n === null ? null : ratio(n, size))),
      };
    });
  return { period: p.period, cohortBy: p.cohortBy, cohorts };
}
