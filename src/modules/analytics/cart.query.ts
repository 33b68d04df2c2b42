/**
 * Cart: abandonment, abandoned value, per-product add-to-cart→purchase and cart size and composition.
 *
 * A cart is a session with at least one `add_to_cart`; it was bought when the session has an
 * `order_completed` after its first add, else abandoned. Cart size is the units added minus the units
 * removed (quantity, default 1; never below 0); abandoned value likewise from the events' `revenue`.
 * A product's add→purchase rate is the share of carts holding it that were bought.
 */
import { sql } from 'kysely';
import type { EventStore } from '../../storage/ports.ts';
import { byCountThenKey, inRange, num, ratio, round, type TimeRange } from './sql.ts';

export type CartParams = { range: TimeRange; limit: number };

export type CartResult = {
  carts: number;
  shoppers: number;
  purchasedCarts: number;
  abandonedCarts: number;
  abandonmentRate: number | null;
  abandonedValue: number;
  meanCartSize: number | null;
  /** Carts per size (units); sizes above 10 are counted under 10 ("10 or more"). */
  sizeHistogram: { size: number; carts: number; shoppers: number }[];
  products: {
    productId: string;
    carts: number;
    shoppers: number;
    purchasedCarts: number;
    addToPurchaseRate: number | null;
  }[];
  /** Share of carts holding at least one item of each category. */
  categories: { category: string; carts: number; shoppers: number; share: number | null }[];
};

export const MAX_SIZE_BUCKET = 10;

type Row = {
  kind: string;
  k: string | null;
  size: unknown;
  carts: unknown;
  shoppers: unknown;
  bought: unknown;
  abandoned_value: unknown;
  size_sum: unknown;
};

export async function cartQuery(events: EventStore, p: CartParams): Promise<CartResult> {
  // One statement: the cart events of the range and the carts are computed once and every figure is read
  // from them (four statements each recomputed both).
  const result = await sql<Row>`
    with ev as materialized (
      select session_id, subject_id, type, product_id, category, ts,
        coalesce(quantity, 1) as qty, coalesce(revenue, 0) as value
      from events where ${inRange(p.range)} and session_id is not null
        and type in ('add_to_cart', 'remove_from_cart', 'order_completed')
    ),
    carts as materialized (
      select session_id, min(subject_id) as subject_id,
        case when max(case when type = 'order_completed' then ts end) > min(case when type = 'add_to_cart' then ts end)
          then 1 else 0 end as bought,
        greatest(sum(case when type = 'add_to_cart' then qty when type = 'remove_from_cart' then -qty else 0 end), 0) as size,
        greatest(sum(case when type = 'add_to_cart' then value when type = 'remove_from_cart' then -value else 0 end), 0) as value
      from ev group by session_id
      having sum(case when type = 'add_to_cart' then 1 else 0 end) > 0
    )
    select 'summary' as kind, null as k, null as size, count(*) as carts, count(distinct subject_id) as shoppers,
      sum(bought) as bought, sum(case when bought = 0 then value else 0 end) as abandoned_value, sum(size) as size_sum
    from carts
    union all
    select 'size', null, least(size, ${sql.lit(MAX_SIZE_BUCKET)}), count(*), count(distinct subject_id), null, null, null
    from carts group by least(size, ${sql.lit(MAX_SIZE_BUCKET)})
    union all
    select 'product', cp.product_id, null, count(*), count(distinct carts.subject_id), sum(carts.bought), null, null
    from (select distinct session_id, product_id from ev where type = 'add_to_cart' and product_id is not null) cp
    join carts on carts.session_id = cp.session_id group by cp.product_id
    union all
    select 'category', cc.category, null, count(*), count(distinct carts.subject_id), null, null, null
    from (select distinct session_id, category from ev where type = 'add_to_cart' and category is not null) cc
    join carts on carts.session_id = cc.session_id group by cc.category`.execute(events.db);
  const of = (kind: string) => result.rows.filter((x) => x.kind === kind);
  const s = { rows: of('summary') };
  const h = { rows: of('size') };
  const pr = { rows: of('product').map((x) => ({ ...x, product_id: x.k ?? '' })) };
  const ca = { rows: of('category').map((x) => ({ ...x, category: x.k ?? '' })) };
  const r = s.rows[0];
  const carts = num(r?.carts);
  const bought = num(r?.bought);
  return {
    carts,
    shoppers: num(r?.shoppers),
    purchasedCarts: bought,
    abandonedCarts: carts - bought,
    abandonmentRate: ratio(carts - bought, carts),
    abandonedValue: round(num(r?.abandoned_value), 2),
    meanCartSize: carts === 0 ? null : round(num(r?.size_sum) / carts, 6),
    sizeHistogram: h.rows
      .map((x) => ({ size: num(x.size), carts: num(x.carts), shoppers: num(x.shoppers) }))
      .sort((a, b) => a.size - b.size),
    products: pr.rows
      .map((x) => ({
        productId: x.product_id,
        carts: num(x.carts),
        shoppers: num(x.shoppers),
        purchasedCarts: num(x.bought),
        addToPurchaseRate: ratio(num(x.bought), num(x.carts)),
      }))
      .sort(
        byCountThenKey(
          (x) => x.carts,
          (x) => x.productId,
        ),
      )
      .slice(0, p.limit),
    categories: ca.rows
      .map((x) => ({
        category: x.category,
        carts: num(x.carts),
        shoppers: num(x.shoppers),
        share: ratio(num(x.carts), carts),
      }))
      .sort(
        byCountThenKey(
          (x) => x.carts,
          (x) => x.category,
        ),
      )
      .slice(0, p.limit),
  };
}
