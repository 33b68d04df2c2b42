/**
 * Review sentiment: every `review_submitted` with text (`props.text`) in the range is classified
 * positive/neutral/negative by the sentiment model (English, Indonesian, Chinese in either script),
 * overall and per product, with each product's top positive and negative aspects and its conversion
 * beside it.
 *
 * Definitions. A product's viewers are the distinct shoppers with a `product_view` of it in the range;
 * its buyers are the distinct shoppers who added it to a cart in a session that has an `order_completed`
 * after that add (the cart report's definition of a bought cart); its conversion rate is buyers / viewers.
 * Polarity is P(positive) − P(negative), averaged over a product's reviews. At most `MAX_SCORED_REVIEWS`
 * reviews (the newest) are classified per question, which bounds the work; `scoredReviews` says how many were.
 */
import { sql } from 'kysely';
import type { EventStore } from '../../storage/ports.ts';
import { topAspects, type AspectSummary } from './sentiment/aspects.ts';
import type { SentimentLabel, SentimentModel } from './sentiment/model.ts';
import { detectLanguage, type SentimentLang } from './sentiment/text.ts';
import {
  byCountThenKey,
  dayOf,
  inRange,
  msOf,
  num,
  propNumber,
  propText,
  ratio,
  round,
  type TimeRange,
} from './sql.ts';

export const MAX_SCORED_REVIEWS = 50_000;

export type ReviewSentimentParams = {
  range: TimeRange;
  /** Products listed (most reviewed first). */
  limit: number;
  /** Aspects per side and product. */
  aspects: number;
  /** Individual reviews listed (newest first); 0 for none. */
  reviewLimit: number;
};

export type SentimentCounts = Record<SentimentLabel, number>;

export type ReviewSentimentResult = {
  reviews: number;
  scoredReviews: number;
  shoppers: number;
  sentiment: SentimentCounts;
  meanPolarity: number | null;
  languages: Record<SentimentLang, number>;
  products: {
    productId: string;
    reviews: number;
    shoppers: number;
    meanRating: number | null;
    sentiment: SentimentCounts;
    meanPolarity: number | null;
    aspects: AspectSummary;
    viewers: number;
    buyers: number;
    conversionRate: number | null;
  }[];
  /** Per review, newest first: no text and no subject id, only what the model made of it. */
  reviewList: {
    eventId: string;
    productId: string | null;
    day: string;
    rating: number | null;
    language: SentimentLang;
    sentiment: SentimentLabel;
    confidence: number;
    polarity: number;
  }[];
};

type ReviewRow = {
  event_id: string;
  subject_id: string;
  product_id: string | null;
  day: unknown;
  rating: unknown;
  text: string | null;
};

const zeroCounts = (): SentimentCounts => ({ negative: 0, neutral: 0, positive: 0 });

export async function reviewSentimentQuery(
  events: EventStore,
  model: SentimentModel,
  p: ReviewSentimentParams,
): Promise<ReviewSentimentResult> {
  const d = events.dialect;
  const rows = await sql<ReviewRow>`
    select event_id, subject_id, product_id, ${dayOf(d, msOf(d))} as day, ${propNumber(d, 'rating')} as rating,
      ${propText(d, 'props.text')} as text
    from events where ${inRange(p.range)} and type = 'review_submitted'
    order by ts desc, event_id
    limit ${MAX_SCORED_REVIEWS + 1}`.execute(events.db);
  const withText = rows.rows.filter((r) => r.text !== null && r.text.trim().length > 0);
  const scored = withText.slice(0, MAX_SCORED_REVIEWS).map((r) => {
    const text = r.text ?? '';
    const s = model.score(text);
    const rating = r.rating === null ? null : num(r.rating);
    return {
      r,
      text,
      s,
      lang: detectLanguage(text),
      rating: rating !== null && rating >= 1 && rating <= 5 ? rating : null,
    };
  });

  const sentiment = zeroCounts();
  const languages: Record<SentimentLang, number> = { en: 0, id: 0, zh: 0 };
  let polaritySum = 0;
  const byProduct = new Map<string, typeof scored>();
  for (const x of scored) {
    sentiment[x.s.label]++;
    languages[x.lang]++;
    polaritySum += x.s.polarity;
    if (x.r.product_id !== null) {
      const list = byProduct.get(x.r.product_id) ?? [];
      list.push(x);
      byProduct.set(x.r.product_id, list);
    }
  }

  const ranked = [...byProduct.entries()]
    .map(([productId, list]) => ({ productId, list }))
    .sort(
      byCountThenKey(
        (x) => x.list.length,
        (x) => x.productId,
      ),
    )
    .slice(0, p.limit);
  const conversion = await productConversion(
    events,
    p.range,
    ranked.map((x) => x.productId),
  );

  const products = ranked.map(({ productId, list }) => {
    const counts = zeroCounts();
    let pol = 0;
    let ratingSum = 0;
    let rated = 0;
    for (const x of list) {
      counts[x.s.label]++;
      pol += x.s.polarity;
      if (x.rating !== null) {
        ratingSum += x.rating;
        rated++;
      }
    }
    const c = conversion.get(productId) ?? { viewers: 0, buyers: 0 };
    return {
      productId,
      reviews: list.length,
      shoppers: new Set(list.map((x) => x.r.subject_id)).size,
      meanRating: rated === 0 ? null : round(ratingSum / rated, 4),
      sentiment: counts,
      meanPolarity: round(pol / list.length, 4),
      aspects: topAspects(
        list.map((x) => ({ text: x.text, label: x.s.label })),
        p.aspects,
      ),
      viewers: c.viewers,
      buyers: c.buyers,
      conversionRate: ratio(c.buyers, c.viewers),
    };
  });

  return {
    reviews: withText.length > MAX_SCORED_REVIEWS ? MAX_SCORED_REVIEWS + 1 : withText.length,
    scoredReviews: scored.length,
    shoppers: new Set(scored.map((x) => x.r.subject_id)).size,
    sentiment,
    meanPolarity: scored.length === 0 ? null : round(polaritySum / scored.length, 4),
    languages,
    products,
    reviewList: scored.slice(0, p.reviewLimit).map((x) => ({
      eventId: x.r.event_id,
      productId: x.r.product_id,
      day: new Date(num(x.r.day) * 86_400_000).toISOString().slice(0, 10),
      rating: x.rating,
      language: x.lang,
      sentiment: x.s.label,
      confidence: round(x.s.confidence, 4),
      polarity: round(x.s.polarity, 4),
    })),
  };
}

/** Viewers and buyers (see the definitions above) of the given products. */
async function productConversion(
  events: EventStore,
  range: TimeRange,
  productIds: readonly string[],
): Promise<Map<string, { viewers: number; buyers: number }>> {
  const out = new Map<string, { viewers: number; buyers: number }>();
  if (productIds.length === 0) return out;
  const ms = msOf(events.dialect);
  const ids = sql.join(productIds.map((id) => sql`${id}`));
  const result = await sql<{ product_id: string; viewers: unknown; buyers: unknown }>`
    with ev as (
      select subject_id, session_id, type, product_id, ${ms} as ms from events
      where ${inRange(range)} and type in ('product_view', 'add_to_cart', 'order_completed')
    ),
    orders as (
      select session_id, max(ms) as last_order from ev where type = 'order_completed' and session_id is not null
      group by session_id
    ),
    views as (
      select product_id, count(distinct subject_id) as viewers from ev
      where type = 'product_view' and product_id in (${ids}) group by product_id
    ),
    buys as (
      select a.product_id, count(distinct a.subject_id) as buyers
      from ev a join orders o on o.session_id = a.session_id
      where a.type = 'add_to_cart' and a.product_id in (${ids}) and o.last_order > a.ms
      group by a.product_id
    )
    select coalesce(v.product_id, b.product_id) as product_id, coalesce(v.viewers, 0) as viewers,
      coalesce(b.buyers, 0) as buyers
    from views v full outer join buys b on b.product_id = v.product_id`.execute(events.db);
  for (const r of result.rows) out.set(r.product_id, { viewers: num(r.viewers), buyers: num(r.buyers) });
  return out;
}
