/**
 * Paths: what shoppers do next after (or did just before) a page or an event, within a session, and how
 * deep sessions browse.
 *
 * Steps are a session's events ordered by time then event id, without `page_leave` (it follows every
 * page and would hide the next real step). A step's label is the page path for `page_view` and the event
 * type otherwise; `(exit)` / `(entrance)` mark the end / start of the session.
 */
import { sql } from 'kysely';
import type { EventStore } from '../../storage/ports.ts';
import { byCountThenKey, bytewise, inRange, num, round, type TimeRange } from './sql.ts';

export type PathsParams = {
  range: TimeRange;
  /** The page (`path`) or event (`type`) the paths start from (`next`) or lead to (`previous`). */
  anchor: { type?: string; path?: string };
  direction: 'next' | 'previous';
  /** Steps per path, 1–5. */
  depth: number;
  limit: number;
};

export type PathCount = { steps: string[]; count: number; shoppers: number };

export type PathsResult = {
  /** Anchor occurrences considered. */
  anchors: number;
  /** Immediate next (or previous) steps. */
  steps: { step: string; count: number; shoppers: number }[];
  /** Whole paths of up to `depth` steps. */
  paths: PathCount[];
};

export const EXIT = '(exit)';
export const ENTRANCE = '(entrance)';
export const BROWSE_TYPES = ['page_view', 'product_view', 'product_list_view'] as const;

type Row = Record<string, unknown> & { count: unknown; shoppers: unknown; gd: unknown };

export async function pathsQuery(events: EventStore, p: PathsParams): Promise<PathsResult> {
  const d = events.dialect;
  const next = p.direction === 'next';
  const fn = next ? 'lead' : 'lag';
  const end = next ? EXIT : ENTRANCE;
  const cols = Array.from(
    { length: p.depth },
    (_, i) =>
      sql`coalesce(${sql.raw(fn)}(label, ${sql.lit(i + 1)}) over s, ${end}) as ${sql.ref(`n${i + 1}`)}`,
  );
  const anchorConds = [sql`true`];
  if (p.anchor.type !== undefined) anchorConds.push(sql`type = ${p.anchor.type}`);
  if (p.anchor.path !== undefined) anchorConds.push(sql`path = ${p.anchor.path}`);
  const isAnchor = sql.join(anchorConds, sql` and `);
  const names = Array.from({ length: p.depth }, (_, i) => sql.ref(`n${i + 1}`));
  // The window's sort is the cost, so only steps an anchor can reach go into it: those of sessions that hold
  // the anchor, from the session's first anchor on (`next`: lead() looks forward) or up to its last one
  // (`previous`), usually far fewer than the sessions hold. Steps tied in time
  // with that anchor stay in, so ordering by (ts, event_id) is exactly what it is over the whole session.
  // The window carries only the columns the result needs.
  const bound = next ? sql`min(ts)` : sql`max(ts)`;
  // Spelled `is true` (ts and bound are never null, so it means the same) to stay out of the join condition:
  // DuckDB pushes a filter on the sessions down into the events scan only for a join on equality alone, and
  // for a rare anchor (an order) that filter is what keeps most events from being read at all.
  const inReach = next ? sql`(e.ts >= a.bound) is true` : sql`(e.ts <= a.bound) is true`;
  // Every anchor has exactly one first step (the end marker at the least), so the anchors are the sum of
  // the first-step counts and need no grouping set of their own.
  const sets = p.depth > 1 ? sql`(n1), (${sql.join(names)})` : sql`(n1)`;
  const result = await sql<Row>`
    with a as (
      select session_id, ${bound} as bound from events
      where ${inRange(p.range)} and session_id is not null and type <> 'page_leave' and ${isAnchor}
      group by session_id
    ),
    ev as (
      select e.session_id, e.subject_id, e.event_id, e.ts,
        case when type = 'page_view' and path is not null then path else type end as label,
        case when ${isAnchor} then 1 else 0 end as anchor
      from events e join a on a.session_id = e.session_id
      where ${inRange(p.range, 'e.ts')} and type <> 'page_leave' and ${inReach}
    ),
    w as (
      select subject_id, anchor, ${sql.join(cols)} from ev
      window s as (partition by session_id order by ts, ${bytewise(d, sql.ref('event_id'))})
    )
    select ${sql.join(names)}, grouping(${sql.ref(`n${p.depth}`)}) as gd,
      count(*) as count, count(distinct subject_id) as shoppers
    from w where anchor = 1
    group by grouping sets (${sets})`.execute(events.db);

  let anchors = 0;
  const steps: PathsResult['steps'] = [];
  const paths: PathCount[] = [];
  for (const r of result.rows) {
    if (num(r.gd) === 1 || p.depth === 1) {
      anchors += num(r.count);
      steps.push({ step: String(r.n1), count: num(r.count), shoppers: num(r.shoppers) });
    }
    if (num(r.gd) === 0) {
      // After the session's end every further step is the end marker too: keep one.
      const s: string[] = [];
      for (let i = 1; i <= p.depth; i++) {
        const label = String(r[`n${i}`]);
        s.push(label);
        if (label === end) break;
      }
      paths.push({ steps: s, count: num(r.count), shoppers: num(r.shoppers) });
    }
  }
  steps.sort(
    byCountThenKey(
      (x) => x.count,
      (x) => x.step,
    ),
  );
  paths.sort(
    byCountThenKey(
      (x) => x.count,
      (x) => JSON.stringify(x.steps),
    ),
  );
  return { anchors, steps: steps.slice(0, p.limit), paths: paths.slice(0, p.limit) };
}

export type BrowseDepthResult = {
  sessions: number;
  meanDepth: number | null;
  medianDepth: number | null;
  /** Sessions per number of browse events (page, product and list views). */
  histogram: { depth: number; sessions: number; shoppers: number }[];
};

export async function browseDepthQuery(events: EventStore, range: TimeRange): Promise<BrowseDepthResult> {
  const result = await sql<{ depth: unknown; sessions: unknown; shoppers: unknown }>`
    select depth, count(*) as sessions, count(distinct subject_id) as shoppers from (
      select session_id, min(subject_id) as subject_id,
        sum(case when type in (${sql.join([...BROWSE_TYPES])}) then 1 else 0 end) as depth
      from events where ${inRange(range)} and session_id is not null group by session_id
    ) s group by depth`.execute(events.db);
  const histogram = result.rows
    .map((r) => ({ depth: num(r.depth), sessions: num(r.sessions), shoppers: num(r.shoppers) }))
    .sort((a, b) => a.depth - b.depth);
  return { ...depthStats(histogram), histogram };
}

/** Mean and median from a histogram (median of an even count: the mean of the two middle values). */
export function depthStats(histogram: readonly { depth: number; sessions: number }[]): {
  sessions: number;
  meanDepth: number | null;
  medianDepth: number | null;
} {
  const total = histogram.reduce((a, h) => a + h.sessions, 0);
  if (total === 0) return { sessions: 0, meanDepth: null, medianDepth: null };
  const sum = histogram.reduce((a, h) => a + h.depth * h.sessions, 0);
  const at = (rank: number): number => {
    let seen = 0;
    for (const h of histogram) {
      seen += h.sessions;
      if (rank < seen) return h.depth;
    }
    return histogram.at(-1)!.depth;
  };
  const median = total % 2 === 1 ? at((total - 1) / 2) : (at(total / 2 - 1) + at(total / 2)) / 2;
  return { sessions: total, meanDepth: round(sum / total, 6), medianDepth: median };
}
