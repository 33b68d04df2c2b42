/**
 * A small, seeded shop for the analytics tests: a few dozen shoppers over four weeks browsing, searching,
 * carting, buying, reviewing and leaving pages. The same seed gives the same events everywhere, so the
 * DuckDB and PostgreSQL suites check the very same data against the same reference answers.
 */
import type { EventRecord } from '../../storage/ports.ts';
import { DAY_MS } from './sql.ts';

/** mulberry32: tiny and deterministic; quality is ample for a test fixture. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const FIXTURE_START = Date.UTC(2025, 0, 6); // a Monday
export const FIXTURE_DAYS = 42;

const PRODUCTS = ['p01', 'p02', 'p03', 'p04', 'p05', 'p06', 'p07', 'p08'];
const CATEGORY: Record<string, string> = {
  p01: 'shoes',
  p02: 'shoes',
  p03: 'shirts',
  p04: 'shirts',
  p05: 'bags',
  p06: 'bags',
  p07: 'hats',
  p08: 'hats',
};
const PRICE: Record<string, number> = {
  p01: 59.9,
  p02: 89.5,
  p03: 19.99,
  p04: 24.5,
  p05: 120,
  p06: 75.25,
  p07: 15,
  p08: 12.35,
};
const QUERIES = ['shoes', 'red shirt', 'Bag', 'hat', 'xyzzy', 'winter boots'];
const PAGES = ['/', '/sale', '/about', '/blog/care'];

export type FixtureOptions = { shoppers?: number; seed?: number };

/** Generates the fixture's events, oldest first per session. */
export function generateFixture(options: FixtureOptions = {}): EventRecord[] {
  const rnd = seededRandom(options.seed ?? 7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const shoppers = options.shoppers ?? 60;
  const out: EventRecord[] = [];
  let seq = 0;
  for (let s = 0; s < shoppers; s++) {
    const subjectId = `subj-${String(s).padStart(3, '0')}`;
    const device = pick(['mobile', 'desktop', 'tablet']);
    const country = rnd() < 0.7 ? 'ID' : pick(['SG', 'MY', 'TW']);
    const utm = rnd() < 0.5 ? null : pick(['google', 'newsletter', 'instagram']);
    const firstDay = Math.floor(rnd() * 30);
    const sessions = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < sessions; k++) {
      const day = Math.min(FIXTURE_DAYS - 1, firstDay + Math.floor(rnd() * 12) * k);
      const sessionId = `${subjectId}-s${k}`;
      let t = FIXTURE_START + day * DAY_MS + Math.floor(rnd() * 20 * 3_600_000);
      const push = (type: string, fields: Partial<EventRecord> = {}, props: Record<string, unknown> = {}) => {
        // Now and then two events share a millisecond, so tie-breaking is exercised.
        t += rnd() < 0.08 ? 0 : 1_000 + Math.floor(rnd() * 400_000);
        seq++;
        out.push({
          eventId: `ev-${String(seq).padStart(6, '0')}`,
          sourceId: 'src_test',
          subjectId,
          anonymousId: subjectId,
          userId: null,
          sessionId,
          type,
          purpose: 'analytics',
          consentId: 'cns_test',
          ts: t,
          receivedAt: t,
          path: null,
          referrer: null,
          productId: null,
          category: null,
          query: null,
          orderId: null,
          revenue: null,
          currency: null,
          quantity: null,
          deviceClass: device,
          country,
          region: null,
          utmSource: k === 0 ? utm : null,
          props: JSON.stringify(props),
          ...fields,
        });
      };
      const leave = (fields: Partial<EventRecord>) =>
        push('page_leave', fields, {
          engagedMs: Math.floor(rnd() * 90_000),
          scrollDepth: Math.floor(rnd() * 101),
        });
      const landing = pick(PAGES);
      push('page_view', { path: landing });
      if (rnd() < 0.7) leave({ path: landing });
      const cart: string[] = [];
      const steps = 1 + Math.floor(rnd() * 7);
      for (let i = 0; i < steps; i++) {
        const r = rnd();
        if (r < 0.3) {
          const p = pick(PRODUCTS);
          push('product_view', { path: `/products/${p}`, productId: p, category: CATEGORY[p]! });
          if (rnd() < 0.6) leave({ path: `/products/${p}`, productId: p, category: CATEGORY[p]! });
          if (rnd() < 0.45) {
            const quantity = 1 + Math.floor(rnd() * 2);
            push('add_to_cart', {
              productId: p,
              category: CATEGORY[p]!,
              quantity,
              revenue: PRICE[p]! * quantity,
              currency: 'IDR',
            });
            cart.push(p);
          }
        } else if (r < 0.5) {
          const q = pick(QUERIES);
          const zero = q === 'xyzzy' || rnd() < 0.1;
          push(
            'search',
            { query: rnd() < 0.2 ? ` ${q.toUpperCase()} ` : q },
            { resultsCount: zero ? 0 : 1 + Math.floor(rnd() * 30) },
          );
          if (!zero && rnd() < 0.6) {
            const p = pick(PRODUCTS);
            push('search_click', { query: q, productId: p }, { position: 1 + Math.floor(rnd() * 10) });
          }
        } else if (r < 0.6) {
          push('page_view', { path: pick(PAGES) });
        } else if (r < 0.68 && cart.length > 0) {
          const p = cart.pop()!;
          push('remove_from_cart', {
            productId: p,
            category: CATEGORY[p]!,
            quantity: 1,
            revenue: PRICE[p]!,
            currency: 'IDR',
          });
        } else if (r < 0.75) {
          const p = pick(PRODUCTS);
          push(
            'review_submitted',
            { productId: p, category: CATEGORY[p]! },
            { rating: 1 + Math.floor(rnd() * 5) },
          );
        }
      }
      if (cart.length > 0 && rnd() < 0.55) {
        push('checkout_started');
        if (rnd() < 0.8) {
          const revenue = Math.round(cart.reduce((a, p) => a + PRICE[p]!, 0) * 100) / 100;
          push(
            'order_completed',
            { orderId: `ord-${sessionId}`, revenue, currency: 'IDR' },
            { items: cart.length },
          );
        }
      }
    }
  }
  return out;
}
