/**
 * Issue 4 retention: a TTL per data class enforced by the retention job on a fixed clock. Raw events past
 * their class's time go; orders are kept for tax; daily roll-ups (with no subject in them) outlive the raw
 * rows, and a second run changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/kernel/clock.ts';
import type { EventRecord } from '../../src/storage/ports.ts';
import { makeTempDir } from '../../src/storage/testing.ts';
import { openShop, type Shop } from './helpers.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-15T12:00:00Z');
const clock = fixedClock(new Date(NOW));
let shop: Shop;

function event(id: string, daysAgo: number, over: Partial<EventRecord> = {}): EventRecord {
  const ts = NOW - daysAgo * DAY;
  return {
    eventId: id,
    sourceId: 'src_retention',
    subjectId: `subj-${id}`,
    anonymousId: `subj-${id}`,
    userId: null,
    sessionId: null,
    type: 'page_view',
    purpose: 'analytics',
    consentId: null,
    ts,
    receivedAt: ts,
    path: '/',
    referrer: null,
    productId: null,
    category: 'tents',
    query: null,
    orderId: null,
    revenue: null,
    currency: null,
    quantity: null,
    deviceClass: 'mobile',
    country: 'ID',
    region: null,
    utmSource: null,
    props: '{}',
    ...over,
  };
}

const identified = (id: string, daysAgo: number, over: Partial<EventRecord> = {}) =>
  event(id, daysAgo, { subjectId: `user-${id}`, userId: `user-${id}`, ...over });

beforeAll(async () => {
  shop = await openShop(makeTempDir('candor-retention'), undefined, { clock });
  await shop.candor.stores.events.append([
    // Anonymous events: 395 days. Two on one old day, one recent.
    event('anon-old-1', 400),
    event('anon-old-2', 400, { type: 'product_view', productId: 'p1' }),
    event('anon-new', 10),
    // Identified events: 730 days.
    identified('ident-old', 800),
    identified('ident-mid', 500),
    // Orders: 10 years (tax), reviews: 5 years.
    identified('order-old', 800, {
      type: 'order_completed',
      purpose: 'necessary',
      orderId: 'o-1',
      revenue: 250_000,
      currency: 'IDR',
    }),
    identified('review-old', 1900, { type: 'review_submitted', productId: 'p1' }),
    identified('review-new', 100, { type: 'review_submitted', productId: 'p1' }),
  ]);
});
afterAll(async () => {
  await shop.close();
  shop.dir.cleanup();
});

const remaining = async () =>
  (await shop.candor.stores.events.db.selectFrom('events').select('event_id').execute())
    .map((r) => r.event_id)
    .sort();

describe('retention job', () => {
  it('deletes each data class past its TTL, keeps orders for tax, and rolls raw rows up per day first', async () => {
    const result = await shop.privacy.retention.run();
    const byClass = Object.fromEntries(result.map((r) => [r.dataClass, r]));
    expect(byClass['events.anonymous']!.deleted).toBe(2);
    expect(byClass['events.identified']!.deleted).toBe(1);
    expect(byClass.reviews!.deleted).toBe(1);
    expect(byClass.orders!.deleted).toBe(0);
    // Cut-offs are whole UTC days.
    expect(byClass['events.anonymous']!.beforeTs % DAY).toBe(0);
    expect(byClass['events.anonymous']!.beforeTs).toBeLessThanOrEqual(NOW - 395 * DAY);

    expect(await remaining()).toEqual(['anon-new', 'ident-mid', 'order-old', 'review-new']);

    const rollups = await shop.privacy.retention.rollups();
    const oldDay = Math.floor((NOW - 400 * DAY) / DAY) * DAY;
    const anon = rollups.filter((r) => r.dataClass === 'events.anonymous');
    expect(anon).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ day: oldDay, type: 'page_view', events: 1, subjects: 1 }),
        expect.objectContaining({ day: oldDay, type: 'product_view', events: 1, subjects: 1 }),
      ]),
    );
    expect(rollups.some((r) => r.dataClass === 'reviews' && r.type === 'review_submitted')).toBe(true);
    // Roll-ups name no one.
    expect(JSON.stringify(rollups)).not.toMatch(/subj-|user-/);
  });

  it('is idempotent: a second run deletes nothing and rewrites the same roll-ups', async () => {
    const before = await shop.privacy.retention.rollups();
    const again = await shop.privacy.retention.run();
    expect(again.reduce((n, r) => n + r.deleted, 0)).toBe(0);
    expect(await shop.privacy.retention.rollups()).toEqual(before);
  });

  it('applies a shortened policy on the next run, and the roll-up keeps the revenue of deleted orders', async () => {
    await shop.privacy.retention.setPolicy('orders', 365);
    clock.advance(DAY);
    const result = await shop.privacy.retention.run();
    expect(result.find((r) => r.dataClass === 'orders')!.deleted).toBe(1);
    expect(await remaining()).toEqual(['anon-new', 'ident-mid', 'review-new']);
    const orders = (await shop.privacy.retention.rollups({ dataClass: 'orders' })).filter(
      (r) => r.type === 'order_completed',
    );
    expect(orders).toEqual([expect.objectContaining({ events: 1, subjects: 1, revenue: 250_000 })]);
    await expect(shop.privacy.retention.setPolicy('orders', 0)).rejects.toThrow(/between 1 and 36500/);
    await expect(shop.privacy.retention.setPolicy('cookies', 30)).rejects.toThrow(/Unknown data class/);
  });
});
