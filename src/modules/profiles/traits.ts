/**
 * Computed traits, as pure functions of a subject's events: RFM scores, lifecycle stage, churn risk and
 * interest tags (category affinities). Thresholds are fixed, documented defaults so a shopper's export can
 * explain each one in plain language; nothing here ever feeds prices.
 */
import type { EventRecord } from '../../storage/ports.ts';

const DAY = 24 * 60 * 60 * 1000;

export type Rfm = {
  recencyDays: number | null;
  frequency: number;
  monetary: number;
  r: number;
  f: number;
  m: number;
};

export type Lifecycle = 'new' | 'active' | 'at_risk' | 'churned';

export type InterestTag = { tag: string; score: number };

export type ComputedTraits = { rfm: Rfm; lifecycle: Lifecycle; churnRisk: number; interests: InterestTag[] };

const band = (value: number, thresholds: readonly number[]): number => {
  // thresholds ascending for scores 2..5; anything above zero scores at least 1.
  let score = value > 0 ? 1 : 0;
  thresholds.forEach((t, i) => {
    if (value >= t) score = i + 2;
  });
  return score;
};

export function computeRfm(events: readonly EventRecord[], now: number): Rfm {
  const orders = events.filter((e) => e.type === 'order_completed');
  const orderIds = new Set(orders.map((o) => o.orderId ?? o.eventId));
  const last = orders.reduce((m, o) => Math.max(m, o.ts), 0);
  const recencyDays = orders.length > 0 ? Math.max(0, Math.floor((now - last) / DAY)) : null;
  const monetary = Math.round(orders.reduce((s, o) => s + (o.revenue ?? 0), 0) * 100) / 100;
  const frequency = orderIds.size;
  const r =
    recencyDays === null
      ? 0
      : recencyDays <= 30
        ? 5
        : recencyDays <= 60
          ? 4
          : recencyDays <= 120
            ? 3
            : recencyDays <= 240
              ? 2
              : 1;
  return {
    recencyDays,
    frequency,
    monetary,
    r,
    f: band(frequency, [2, 3, 5, 10]),
    m: band(monetary, [50, 200, 500, 1000]),
  };
}

export function computeLifecycle(events: readonly EventRecord[], now: number): Lifecycle {
  if (events.length === 0) return 'new';
  const first = Math.min(...events.map((e) => e.ts));
  const last = Math.max(...events.map((e) => e.ts));
  const orders = new Set(
    events.filter((e) => e.type === 'order_completed').map((e) => e.orderId ?? e.eventId),
  ).size;
  if (now - first < 30 * DAY && orders <= 1) return 'new';
  const idle = now - last;
  if (idle <= 60 * DAY) return 'active';
  if (idle <= 180 * DAY) return 'at_risk';
  return 'churned';
}

/** 0..1: rises with days since the last activity (half at 90 days), a little lower for repeat buyers. */
export function computeChurnRisk(events: readonly EventRecord[], now: number): number {
  if (events.length === 0) return 0.5;
  const idleDays = (now - Math.max(...events.map((e) => e.ts))) / DAY;
  const orders = new Set(
    events.filter((e) => e.type === 'order_completed').map((e) => e.orderId ?? e.eventId),
  ).size;
  const risk = 1 / (1 + Math.exp(-(idleDays - 90) / 20)) - 0.05 * Math.min(orders, 5);
  return Math.round(Math.min(1, Math.max(0, risk)) * 100) / 100;
}

const WEIGHT: Readonly<Record<string, number>> = {
  product_view: 1,
  product_list_view: 0.5,
  search_click: 1,
  add_to_cart: 3,
  order_completed: 5,
  review_submitted: 2,
  product_shared: 2,
};
const HALF_LIFE_DAYS = 30;
export const MAX_INTEREST_TAGS = 10;
export const MIN_INTEREST_SCORE = 0.2;

export function tagOf(category: string): string {
  return category
    .trim()
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
}

/**
 * Category affinities: each interaction adds its weight, halved every 30 days of age; scores are relative
 * to the strongest category. Suppressed tags (deleted by the shopper) are never derived again.
 */
export function computeInterests(
  events: readonly EventRecord[],
  now: number,
  suppressed: ReadonlySet<string>,
): InterestTag[] {
  const scores = new Map<string, number>();
  for (const e of events) {
    const w = WEIGHT[e.type];
    if (!w || !e.category) continue;
    const tag = tagOf(e.category);
    if (!tag || suppressed.has(tag)) continue;
    const ageDays = Math.max(0, (now - e.ts) / DAY);
    scores.set(tag, (scores.get(tag) ?? 0) + w * Math.pow(0.5, ageDays / HALF_LIFE_DAYS));
  }
  const max = Math.max(0, ...scores.values());
  if (max === 0) return [];
  return [...scores.entries()]
    .map(([tag, s]) => ({ tag, score: Math.round((s / max) * 1000) / 1000 }))
    .filter((t) => t.score >= MIN_INTEREST_SCORE)
    .sort((a, b) => b.score - a.score || (a.tag < b.tag ? -1 : 1))
    .slice(0, MAX_INTEREST_TAGS);
}

export function computeTraits(
  events: readonly EventRecord[],
  now: number,
  suppressed: ReadonlySet<string>,
): ComputedTraits {
  return {
    rfm: computeRfm(events, now),
    lifecycle: computeLifecycle(events, now),
    churnRisk: computeChurnRisk(events, now),
    interests: computeInterests(events, now, suppressed),
  };
}

/** Plain-language descriptions of each automated decision, for exports and the privacy page. */
export const AUTOMATED_DECISIONS = [
  {
    name: 'rfm',
    description:
      'Recency, frequency and monetary scores (1–5) from your orders: days since your last order, how many orders, how much you spent.',
    effect: 'Used to group customers for offers (segments). Never changes prices.',
  },
  {
    name: 'lifecycle',
    description:
      'Your stage: new (first visit under 30 days ago), active (seen in the last 60 days), at risk (61–180 days), churned (over 180 days).',
    effect: 'Decides which re-engagement campaigns may be sent to you, if you agreed to marketing.',
  },
  {
    name: 'churn_risk',
    description:
      'A number from 0 to 1 that grows with the time since your last visit (0.5 at 90 days), slightly lower for repeat buyers.',
    effect: 'Used to prioritise win-back offers. Never changes prices.',
  },
  {
    name: 'interest_tags',
    description:
      'Product categories you viewed, carted or bought, recent activity counting more (halved every 30 days). You can delete any tag.',
    effect: 'Ranks recommendations and search results while personalisation is on.',
  },
] as const;
