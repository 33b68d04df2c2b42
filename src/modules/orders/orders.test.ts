import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStateStore } from '../../storage/index.ts';
import type { StateStore } from '../../storage/ports.ts';
import { makeTempDir } from '../../storage/testing.ts';
import { ordersContract } from './orders.contract.testkit.ts';
import { isWholeOrderTopic, normaliseRef, parsePlatformWebhook } from './platforms.ts';

describe('order records (SQLite)', () => {
  const dir = makeTempDir('candor-orders');
  const stores: StateStore[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
    dir.cleanup();
  });
  let n = 0;
  ordersContract(async () => {
    const s = await openSqliteStateStore({ file: path.join(dir.path, `state-${n++}.sqlite`) });
    stores.push(s);
    return s;
  });
});

describe('platform payloads', () => {
  it('normalises order numbers as shoppers type them', () => {
    expect(normaliseRef(' #1001 ')).toBe('1001');
    expect(normaliseRef('ord-12 345')).toBe('ORD-12345');
  });
  it('reads a cancelled Shopify order as cancelled and a refunded one as refunded', () => {
    const base = { id: 1, total_price: '10', currency: 'USD', line_items: [] };
    expect(
      parsePlatformWebhook('shopify', 'orders/cancelled', { ...base, cancelled_at: '2025-01-01T00:00:00Z' }),
    ).toMatchObject({ status: 'cancelled' });
    expect(
      parsePlatformWebhook('shopify', 'orders/updated', {
        ...base,
        financial_status: 'refunded',
        cancelled_at: '2025-01-01T00:00:00Z',
      }),
    ).toMatchObject({ status: 'refunded' });
    expect(parsePlatformWebhook('shopify', null, { ...base, financial_status: 'pending' })).toMatchObject({
      status: 'placed',
    });
    expect(parsePlatformWebhook('shopify', 'products/update', base)).toBeNull();
    expect(parsePlatformWebhook('woocommerce', 'order.created', { id: 5, status: 'pending' })).toMatchObject({
      orderId: '5',
      status: 'placed',
    });
    expect(
      parsePlatformWebhook('woocommerce', 'order.updated', { id: 5, number: '5', status: 'cancelled' }),
    ).toMatchObject({ orderId: 'wc-5', status: 'cancelled' });
  });
  it('refuses tracking links that are not web links', () => {
    const o = parsePlatformWebhook('shopify', 'orders/updated', {
      id: 1,
      fulfillments: [{ tracking_number: 'T1', tracking_url: 'javascript:alert(1)' }],
    });
    expect(o).toMatchObject({ status: 'shipped', trackingNumber: 'T1', trackingUrl: null });
  });
  it('knows which topics carry a whole order', () => {
    expect(isWholeOrderTopic('shopify', null)).toBe(true);
    expect(isWholeOrderTopic('shopify', 'refunds/create')).toBe(false);
    expect(isWholeOrderTopic('woocommerce', 'order.deleted')).toBe(false);
  });
});
