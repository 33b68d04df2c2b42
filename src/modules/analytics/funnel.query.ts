/**
 * Funnels over shoppers (pseudonymous subject ids).
 *
 * Semantics, identical on every store and in the reference computation the tests use:
 * - Only events inside the range count. The anchor is the shopper's first step-1 event (ties: lowest
 *   event id in byte order); the breakdown value is read from the anchor event.
 * - `ordered`: step k is the first step-k event strictly after step k-1's event and at most `windowMs`
 *   after the anchor; other events may happen in between.
 * - `any`: steps 2..n may happen in any order, each strictly after the anchor and within the window;
 *   a shopper reaches step k when steps 2..k all happened.
 * - `strict`: the steps must be consecutive events of the shopper (ordered by time, then event id), all
 *   within the window of the step-1 event; every step-1 event is tried and the deepest run wins (ties:
 *   the earliest).
 * - Time to convert is last-step time minus anchor time, for shoppers who completed every step.
 */
import { sql, type RawBuilder } from 'kysely';
import type { EventStore } from '../../storage/ports.ts';
import {
  byCountThenKey,
  bytewise,
  inRange,
  msOf,
  num,
  numOrNull,
  propText,
  ratio,
  round,
  type TimeRange,
} from './sql.ts';

export type FunnelFilter = { property: string; op: 'eq' | 'neq'; value: string | readonly string[] };
export type FunnelStep = { type: string; filters?: readonly FunnelFilter[] };
export type FunnelOrder = 'ordered' | 'strict' | 'any';

export type FunnelParams = {
  range: TimeRange;
  steps: readonly FunnelStep[];
  windowMs: number;
  order: FunnelOrder;
  breakdown?: string;
  /** Lists shoppers who reached this step (1-based) but not the next. */
  dropOff?: { step: number; limit: number };
  /** At most this many breakdown groups, largest first. */
  breakdownLimit?: number;
};

export type FunnelStepResult = {
  step: number;
  type: string;
  shoppers: number;
  /** Share of step-1 shoppers who got here. */
  conversionFromStart: number | null;
  conversionFromPrevious: number | null;
  /** Shoppers who reached the previous step but not this one. */
  droppedOff: number;
};

export const TIME_TO_CONVERT_BUCKETS = [
  { label: '<10s', upToMs: 10_000 },
  { label: '10s-1m', upToMs: 60_000 },
  { label: '1m-5m', upToMs: 300_000 },
  { label: '5m-30m', upToMs: 1_800_000 },
  { label: '30m-1h', upToMs: 3_600_000 },
  { label: '1h-6h', upToMs: 21_600_000 },
  { label: '6h-1d', upToMs: 86_400_000 },
  { label: '1d-3d', upToMs: 259_200_000 },
  { label: '3d-7d', upToMs: 604_800_000 },
  { label: '>=7d', upToMs: null },
] as const;

export type FunnelGroup = {
  steps: FunnelStepResult[];
  /** Completed shoppers per time-to-convert bucket. */
  timeToConvert: { label: string; shoppers: number }[];
  medianTimeToConvertMs: number | null;
};

export type FunnelResult = FunnelGroup & {
  breakdown: { property: string; groups: (FunnelGroup & { value: string })[] } | null;
  dropOff: { step: number; subjectIds: string[] } | null;
};

/** Label for a missing breakdown value. */
export const NONE = '(none)';

function filterSql(events: EventStore, f: FunnelFilter): RawBuilder<boolean> {
  const values = typeof f.value === 'string' ? [f.value] : [...f.value];
  const col = propText(events.dialect, f.property);
  const list = sql.join(values);
  return f.op === 'eq'
    ? sql<boolean>`${col} in (${list})`
    : sql<boolean>`(${col} is null or ${col} not in (${list}))`;
}

function stepCondition(events: EventStore, step: FunnelStep): RawBuilder<boolean> {
  const conds = [sql<boolean>`type = ${step.type}`, ...(step.filters ?? []).map((f) => filterSql(events, f))];
  return sql<boolean>`${sql.join(conds, sql` and `)}`;
}

function matchSql(events: EventStore, step: FunnelStep): RawBuilder<number> {
  return sql<number>`(case when ${stepCondition(events, step)} then 1 else 0 end)`;
}

const m = (i: number) => sql.ref(`m${i}`);

/** The per-shopper table (subject_id, b, t1, depth, tconv) as a list of CTEs. */
function perShopperCtes(events: EventStore, p: FunnelParams): RawBuilder<unknown> {
  const d = events.dialect;
  const n = p.steps.length;
  const W = p.windowMs;
  const b = p.breakdown ? propText(d, p.breakdown) : sql`cast(null as varchar)`;
  if (p.order === 'strict') {
    const matches = p.steps.map((s, i) => sql`${matchSql(events, s)} as ${m(i + 1)}`);
    // Every event of the range (another event in between breaks the run), scanned once: every step reads it.
    const ev = sql`ev as materialized (
      select subject_id, event_id, ${msOf(d)} as ms, ${sql.join(matches)}, ${b} as b
      from events where ${inRange(p.range)}
    )`;
    const leads = [];
    for (let j = 2; j <= n; j++) {
      const over = sql`over (partition by subject_id order by ms, ${bytewise(d, sql.ref('event_id'))})`;
      leads.push(sql`lead(${m(j)}, ${sql.lit(j - 1)}) ${over} as ${sql.ref(`l${j}`)}`);
      leads.push(sql`lead(ms, ${sql.lit(j - 1)}) ${over} as ${sql.ref(`lt${j}`)}`);
    }
    let depth: RawBuilder<unknown> = sql`0`;
    for (let j = n; j >= 2; j--) {
      depth = sql`(case when ${sql.ref(`l${j}`)} = 1 and ${sql.ref(`lt${j}`)} <= ms + ${sql.lit(W)} then 1 + ${depth} else 0 end)`;
    }
    const last = n >= 2 ? sql.ref(`lt${n}`) : sql.ref('ms');
    return sql`${ev},
      w as (select subject_id, event_id, ms, b, m1 ${leads.length ? sql`, ${sql.join(leads)}` : sql``} from ev),
      c as (select subject_id, event_id, ms as t1, b, 1 + ${depth} as depth, ${last} - ms as tc from w where m1 = 1),
      per as (
        select subject_id, b, t1, depth, case when depth = ${sql.lit(n)} then tc end as tconv from (
          select c.*, row_number() over (partition by subject_id order by depth desc, t1, ${bytewise(d, sql.ref('event_id'))}) as rn from c
        ) x where rn = 1
      )`;
  }
  // Ordered and any: each step's events are read straight from the events table (its own filtered scan,
  // two columns), and each step carries the anchor time along, so a step joins one table of shoppers to
  // one step's events. On DuckDB this does half the work of one materialised table of every step's
  // events joined back to the anchor at each step.
  const stepEvents = (j: number) =>
    sql`(select subject_id, ${msOf(d)} as ms from events where ${inRange(p.range)} and ${stepCondition(events, p.steps[j - 1]!)})`;
  const first = sql`select subject_id, event_id, ${msOf(d)} as ms, ${b} as b
    from events where ${inRange(p.range)} and ${stepCondition(events, p.steps[0]!)}`;
  // The anchor: each shopper's first step-1 event (ties: lowest event id). DuckDB picks it in one
  // aggregate; PostgreSQL has no arg_min, so it numbers the rows.
  const anchor =
    d === 'duckdb'
      ? sql`a as materialized (
          select subject_id, min(ms) as t1, arg_min(b, {'ms': ms, 'id': event_id}) as b from (${first}) f group by subject_id
        )`
      : sql`a as materialized (
          select subject_id, ms as t1, b from (
            select subject_id, ms, b, row_number() over (partition by subject_id order by ms, ${bytewise(d, sql.ref('event_id'))}) as rn
            from (${first}) f
          ) x where rn = 1
        )`;
  const ctes: RawBuilder<unknown>[] = [anchor];
  for (let j = 2; j <= n; j++) {
    // ordered: after the previous step's event; any: after the anchor.
    const prev = p.order === 'ordered' && j > 2 ? sql.ref(`s${j - 1}`) : sql.ref('a');
    const after = p.order === 'ordered' && j > 2 ? sql.ref('p.t') : sql.ref('p.t1');
    ctes.push(sql`${sql.ref(`s${j}`)} as (
      select p.subject_id, p.t1, min(ev.ms) as t from ${prev} p
        join ${stepEvents(j)} ev on ev.subject_id = p.subject_id and ev.ms > ${after} and ev.ms <= p.t1 + ${sql.lit(W)}
      group by p.subject_id, p.t1
    )`);
  }
  const ts = [];
  for (let j = 2; j <= n; j++) ts.push(sql`${sql.ref(`s${j}`)}.t as ${sql.ref(`t${j}`)}`);
  const joins = [];
  for (let j = 2; j <= n; j++) {
    joins.push(sql`left join ${sql.ref(`s${j}`)} on ${sql.ref(`s${j}`)}.subject_id = a.subject_id`);
  }
  let depth: RawBuilder<unknown> = sql.lit(n);
  for (let j = n; j >= 2; j--)
    depth = sql`case when ${sql.ref(`t${j}`)} is null then ${sql.lit(j - 1)} else ${depth} end`;
  const lastT =
    n === 1
      ? sql`t1`
      : n === 2
        ? sql.ref('t2')
        : sql`greatest(${sql.join(Array.from({ length: n - 1 }, (_, i) => sql.ref(`t${i + 2}`)))})`;
  ctes.push(
    sql`j as (select a.subject_id, a.b, a.t1 ${ts.length ? sql`, ${sql.join(ts)}` : sql``} from a ${sql.join(joins, sql` `)})`,
  );
  ctes.push(sql`per as (
    select subject_id, b, t1, ${depth} as depth, case when ${depth} = ${sql.lit(n)} then ${lastT} - t1 end as tconv from j
  )`);
  return sql.join(ctes, sql`, `);
}

type AggRow = Record<string, unknown> & { b: string | number | null; g: unknown; med: unknown };

function groupFrom(p: FunnelParams, r: AggRow): FunnelGroup {
  const n = p.steps.length;
  const counts = Array.from({ length: n }, (_, i) => num(r[`n${i + 1}`]));
  const steps = counts.map((c, i) => ({
    step: i + 1,
    type: p.steps[i]!.type,
    shoppers: c,
    conversionFromStart: ratio(c, counts[0] ?? 0),
    conversionFromPrevious: i === 0 ? ratio(c, c) : ratio(c, counts[i - 1] ?? 0),
    droppedOff: i === 0 ? 0 : (counts[i - 1] ?? 0) - c,
  }));
  const med = numOrNull(r.med);
  return {
    steps,
    timeToConvert: TIME_TO_CONVERT_BUCKETS.map((bk, i) => ({ label: bk.label, shoppers: num(r[`h${i}`]) })),
    medianTimeToConvertMs: med === null ? null : round(med, 3),
  };
}

export async function funnelQuery(events: EventStore, p: FunnelParams): Promise<FunnelResult> {
  const d = events.dialect;
  const n = p.steps.length;
  const ctes = perShopperCtes(events, p);
  const stepCounts = Array.from(
    { length: n },
    (_, i) => sql`sum(case when depth >= ${sql.lit(i + 1)} then 1 else 0 end) as ${sql.ref(`n${i + 1}`)}`,
  );
  let lower = 0;
  const buckets = TIME_TO_CONVERT_BUCKETS.map((bk, i) => {
    const cond =
      bk.upToMs === null
        ? sql`tconv >= ${sql.lit(lower)}`
        : sql`tconv >= ${sql.lit(lower)} and tconv < ${sql.lit(bk.upToMs)}`;
    lower = bk.upToMs ?? lower;
    return sql`sum(case when ${cond} then 1 else 0 end) as ${sql.ref(`h${i}`)}`;
  });
  const grouping = p.breakdown ? sql`grouping(b) as g` : sql`1 as g`;
  const groupBy = p.breakdown ? sql`group by grouping sets ((b), ())` : sql``;
  const result = await sql<AggRow>`with ${ctes}
    select ${p.breakdown ? sql`b` : sql`null as b`}, ${grouping}, ${sql.join(stepCounts)}, ${sql.join(buckets)},
      percentile_cont(0.5) within group (order by cast(tconv as double precision)) as med
    from per ${groupBy}`.execute(events.db);

  let total: FunnelGroup | null = null;
  const groups: (FunnelGroup & { value: string })[] = [];
  for (const r of result.rows) {
    if (num(r.g) === 1) total = groupFrom(p, r);
    else groups.push({ value: r.b === null || r.b === undefined ? NONE : String(r.b), ...groupFrom(p, r) });
  }
  total ??= groupFrom(p, {} as AggRow);
  groups.sort(
    byCountThenKey(
      (g) => g.steps[0]?.shoppers ?? 0,
      (g) => g.value,
    ),
  );

  let dropOff: FunnelResult['dropOff'] = null;
  if (p.dropOff) {
    const ids = await sql<{ subject_id: string }>`with ${ctes}
      select subject_id from per where depth = ${sql.lit(p.dropOff.step)}
      order by ${bytewise(d, sql.ref('subject_id'))} limit ${sql.lit(p.dropOff.limit)}`.execute(events.db);
    dropOff = { step: p.dropOff.step, subjectIds: ids.rows.map((r) => r.subject_id) };
  }
  return {
    ...total,
    breakdown: p.breakdown
      ? { property: p.breakdown, groups: groups.slice(0, p.breakdownLimit ?? 50) }
      : null,
    dropOff,
  };
}
