/** Reviews: the distribution of star ratings (`review_submitted`, `props.rating` 1–5), overall and per product. */
import { sql } from 'kysely';
import type { EventStore } from '../../storage/ports.ts';
import { byCountThenKey, inRange, num, propNumber, round, type TimeRange } from './sql.ts';

export type ReviewsParams = { range: TimeRange; limit: number };

export type RatingDistribution = {
  reviews: number;
  meanRating: number | null;
  counts: Record<'1' | '2' | '3' | '4' | '5', number>;
};

export type ReviewsResult = RatingDistribution & {
  shoppers: number;
  products: (RatingDistribution & { productId: string; shoppers: number })[];
};

type Row = {
  product_id: string | null;
  g: unknown;
  reviews: unknown;
  shoppers: unknown;
  total: unknown;
} & Record<string, unknown>;

function distribution(r: Row): RatingDistribution {
  const reviews = num(r.reviews);
  return {
    reviews,
    meanRating: reviews === 0 ? null : round(num(r.total) / reviews, 6),
    counts: { '1': num(r.r1), '2': num(r.r2), '3': num(r.r3), '4': num(r.r4), '5': num(r.r5) },
  };
}

export async function reviewsQuery(events: EventStore, p: ReviewsParams): Promise<ReviewsResult> {
  const d = events.dialect;
  const stars = [1, 2, 3, 4, 5].map(
    (s) => sql`sum(case when rating = ${sql.lit(s)} then 1 else 0 end) as ${sql.ref(`r${s}`)}`,
  );
  // Ratings outside 1–5 or not whole numbers are not ratings: left out rather than guessed.
  const result = await sql<Row>`
    select product_id, grouping(product_id) as g, count(*) as reviews, count(distinct subject_id) as shoppers,
      sum(rating) as total, ${sql.join(stars)}
    from (
      select product_id, subject_id, ${propNumber(d, 'rating')} as rating
      from events where ${inRange(p.range)} and type = 'review_submitted'
    ) r where rating in (1, 2, 3, 4, 5)
    group by grouping sets ((), (product_id))`.execute(events.db);
  let overall: ReviewsResult | null = null;
  const products: ReviewsResult['products'] = [];
  for (const r of result.rows) {
    if (num(r.g) === 1) overall = { ...distribution(r), shoppers: num(r.shoppers), products };
    else if (r.product_id !== null)
      products.push({ productId: r.product_id, shoppers: num(r.shoppers), ...distribution(r) });
  }
  products.sort(
    byCountThenKey(
      (x) => x.reviews,
      (x) => x.productId,
    ),
  );
  products.splice(p.limit);
  return overall ?? { ...distribution({} as Row), shoppers: 0, products };
}
