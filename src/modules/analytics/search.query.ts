/**
 * Site search: top queries, zero-result queries, click-through and mean click position per query,
 * search→cart and search→purchase conversion, and queries that end the session.
 *
 * Queries are compared trimmed and lower-cased. A "search session" is a (session, query) pair: it was
 * clicked when the session has a `search_click` for that query, and it converted to cart (purchase) when
 * the session has an `add_to_cart` (`order_completed`) after the query's first search in that session.
 * A search is an exit when nothing but `page_leave` happened after it in its session.
 */
import { sql } from 'kysely';
import type { EventStore } from '../../storage/ports.ts';
import { byCountThenKey, inRange, num, propNumber, ratio, round, type TimeRange } from './sql.ts';

export type SearchParams = { range: TimeRange; limit: number };

export type SearchQueryRow = {
  query: string;
  searches: number;
  shoppers: number;
  zeroResultSearches: number;
  searchSessions: number;
  clickedSessions: number;
  /** clickedSessions / searchSessions. */
  clickThroughRate: number | null;
  clicks: number;
  meanClickPosition: number | null;
  cartSessions: number;
  purchaseSessions: number;
  searchToCartRate: number | null;
  searchToPurchaseRate: number | null;
  exits: number;
};

export type SearchResult = {
  totals: {
    searches: number;
    shoppers: number;
    zeroResultSearches: number;
    /** Sessions with a search, and of those the ones with a cart add / an order after their first search. */
    searchSessions: number;
    cartSessions: number;
    purchaseSessions: number;
    searchToCartRate: number | null;
    searchToPurchaseRate: number | null;
    exits: number;
  };
  topQueries: SearchQueryRow[];
  zeroResultQueries: SearchQueryRow[];
  exitQueries: SearchQueryRow[];
};

type Row = {
  q: string | null;
  g: unknown;
  searches: unknown;
  shoppers: unknown;
  zero: unknown;
  exits: unknown;
  pairs: unknown;
  clicked: unknown;
  carted: unknown;
  purchased: unknown;
  clicks: unknown;
  pos_n: unknown;
  pos_sum: unknown;
  t_sessions: unknown;
  t_carted: unknown;
  t_purchased: unknown;
};

export async function searchQuery(events: EventStore, p: SearchParams): Promise<SearchResult> {
  const d = events.dialect;
  const searchTypes = sql`type in ('search', 'search_click')`;
  // Search events are a small share of the range: only they are materialised, with their query and JSON
  // properties; the session figures come from a plain aggregate over the range's (type, ts) columns.
  const result = await sql<Row>`
    with ev as materialized (
      select session_id, subject_id, type, ts, lower(trim(query)) as q,
        case when type = 'search' then ${propNumber(d, 'resultsCount')} end as results,
        case when type = 'search_click' then ${propNumber(d, 'position')} end as position
      from events where ${inRange(p.range)} and ${searchTypes}
    ),
    sess as materialized (
      select session_id,
        max(case when type <> 'page_leave' then ts end) as last_ts,
        max(case when type = 'add_to_cart' then ts end) as cart_ts,
        max(case when type = 'order_completed' then ts end) as order_ts
      from events where ${inRange(p.range)} and session_id is not null group by session_id
    ),
    s as (select * from ev where type = 'search' and q is not null),
    per_q as (
      select s.q, grouping(s.q) as g, count(*) as searches, count(distinct s.subject_id) as shoppers,
        sum(case when s.results = 0 then 1 else 0 end) as zero,
        sum(case when s.session_id is not null and s.ts >= sess.last_ts then 1 else 0 end) as exits
      from s left join sess on sess.session_id = s.session_id
      group by grouping sets ((), (s.q))
    ),
    clicked as (select distinct session_id, q from ev where type = 'search_click' and q is not null and session_id is not null),
    pr as (select session_id, q, min(ts) as first_ts from s where session_id is not null group by session_id, q),
    conv as (
      select pr.q, count(*) as pairs,
        sum(case when clicked.session_id is not null then 1 else 0 end) as clicked,
        sum(case when sess.cart_ts > pr.first_ts then 1 else 0 end) as carted,
        sum(case when sess.order_ts > pr.first_ts then 1 else 0 end) as purchased
      from pr join sess on sess.session_id = pr.session_id
      left join clicked on clicked.session_id = pr.session_id and clicked.q = pr.q
      group by pr.q
    ),
    cl as (
      select q, count(*) as clicks, count(position) as pos_n, sum(position) as pos_sum
      from ev where type = 'search_click' and q is not null group by q
    ),
    fs as (select session_id, min(ts) as first_ts from s where session_id is not null group by session_id),
    tot as (
      select count(*) as t_sessions,
        sum(case when sess.cart_ts > fs.first_ts then 1 else 0 end) as t_carted,
        sum(case when sess.order_ts > fs.first_ts then 1 else 0 end) as t_purchased
      from fs join sess on sess.session_id = fs.session_id
    )
    select per_q.*, conv.pairs, conv.clicked, conv.carted, conv.purchased, cl.clicks, cl.pos_n, cl.pos_sum,
      tot.t_sessions, tot.t_carted, tot.t_purchased
    from per_q
    left join conv on conv.q = per_q.q and per_q.g = 0
    left join cl on cl.q = per_q.q and per_q.g = 0
    cross join tot`.execute(events.db);

  let overall: Row | undefined;
  const rows: SearchQueryRow[] = [];
  for (const r of result.rows) {
    if (num(r.g) === 1) {
      overall = r;
      continue;
    }
    const searchSessions = num(r.pairs);
    const posN = num(r.pos_n);
    rows.push({
      query: r.q ?? '',
      searches: num(r.searches),
      shoppers: num(r.shoppers),
      zeroResultSearches: num(r.zero),
      searchSessions,
      clickedSessions: num(r.clicked),
      clickThroughRate: ratio(num(r.clicked), searchSessions),
      clicks: num(r.clicks),
      meanClickPosition: posN === 0 ? null : round(num(r.pos_sum) / posN, 6),
      cartSessions: num(r.carted),
      purchaseSessions: num(r.purchased),
      searchToCartRate: ratio(num(r.carted), searchSessions),
      searchToPurchaseRate: ratio(num(r.purchased), searchSessions),
      exits: num(r.exits),
    });
  }
  const t = overall;
  const sessions = num(t?.t_sessions);
  const ranked = (count: (r: SearchQueryRow) => number) =>
    rows
      .filter((r) => count(r) > 0)
      .sort(byCountThenKey(count, (r) => r.query))
      .slice(0, p.limit);
  return {
    totals: {
      searches: num(overall?.searches),
      shoppers: num(overall?.shoppers),
      zeroResultSearches: num(overall?.zero),
      searchSessions: sessions,
      cartSessions: num(t?.t_carted),
      purchaseSessions: num(t?.t_purchased),
      searchToCartRate: ratio(num(t?.t_carted), sessions),
      searchToPurchaseRate: ratio(num(t?.t_purchased), sessions),
      exits: num(overall?.exits),
    },
    topQueries: ranked((r) => r.searches),
    zeroResultQueries: ranked((r) => r.zeroResultSearches),
    exitQueries: ranked((r) => r.exits),
  };
}
