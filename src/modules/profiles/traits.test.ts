import { describe, expect, it } from 'vitest';
import type { EventRecord } from '../../storage/ports.ts';
import { computeChurnRisk, computeInterests, computeLifecycle, computeRfm } from './traits.ts';

const DAY = 86_400_000;
const now = Date.UTC(2025, 5, 1);
let n = 0;
const ev = (type: string, daysAgo: number, extra: Partial<EventRecord> = {}): EventRecord => ({
  eventId: `e${n++}`,
  sourceId: 's',
  subjectId: 'u',
  anonymousId: null,
  userId: 'u',
  sessionId: null,
  type,
  purpose: 'analytics',
  consentId: null,
  ts: now - daysAgo * DAY,
  receivedAt: now,
  path: null,
  referrer: null,
  productId: null,
  category: null,
  query: null,
  orderId: null,
  revenue: null,
  currency: null,
  quantity: null,
  deviceClass: null,
  country: null,
  region: null,
  utmSource: null,
  props: '{}',
  ...extra,
});

describe('computed traits', () => {
  it('scores RFM from orders', () => {
    const rfm = computeRfm(
      [
        ev('order_completed', 10, { orderId: 'a', revenue: 300 }),
        ev('order_completed', 40, { orderId: 'b', revenue: 250 }),
      ],
      now,
    );
    expect(rfm).toMatchObject({ recencyDays: 10, frequency: 2, monetary: 550, r: 5, f: 2, m: 4 });
    expect(computeRfm([ev('page_view', 1)], now)).toMatchObject({
      recencyDays: null,
      frequency: 0,
      r: 0,
      f: 0,
      m: 0,
    });
  });

  it('places shoppers in lifecycle stages and raises churn risk with idleness', () => {
    expect(computeLifecycle([ev('page_view', 3)], now)).toBe('new');
    expect(computeLifecycle([ev('page_view', 100), ev('page_view', 20)], now)).toBe('active');
    expect(computeLifecycle([ev('page_view', 300), ev('page_view', 90)], now)).toBe('at_risk');
    expect(computeLifecycle([ev('page_view', 400), ev('page_view', 200)], now)).toBe('churned');
    expect(computeChurnRisk([ev('page_view', 200)], now)).toBeGreaterThan(
      computeChurnRisk([ev('page_view', 5)], now),
    );
  });

  it('derives interest tags from category affinity and never re-derives a suppressed tag', () => {
    const events = [
      ev('product_view', 1, { category: 'Hiking Boots' }),
      ev('add_to_cart', 1, { category: 'Hiking Boots' }),
      ev('product_view', 2, { category: 'Tents' }),
      ev('product_view', 200, { category: 'Socks' }),
    ];
    const tags = computeInterests(events, now, new Set());
    expect(tags[0]).toEqual({ tag: 'hiking-boots', score: 1 });
    expect(tags.map((t) => t.tag)).toContain('tents');
    expect(tags.map((t) => t.tag)).not.toContain('socks');
    expect(computeInterests(events, now, new Set(['hiking-boots'])).map((t) => t.tag)).toEqual(['tents']);
  });
});
