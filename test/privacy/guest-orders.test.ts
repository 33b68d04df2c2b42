/**
 * Guest checkouts and the shopper's rights: a platform order placed without an account is stored with
 * only a keyed hash of its e-mail. A shopper whose address the shop knows must find those orders in their
 * export and have them de-identified by their erasure; another person's guest order is left alone.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrdersModule } from '../../src/modules/orders/index.ts';
import { openShop, type Shop } from './helpers.ts';

let shop: Shop;
let orders: OrdersModule;
const tag = randomBytes(5).toString('hex');
const customerId = `cust-${tag}`;
const email = `guest.${tag}@example.test`;

function guestOrder(id: number, address: string): Record<string, unknown> {
  return {
    id,
    name: `#${id}`,
    order_number: id,
    // Typed differently at checkout than in the account: the hash is of the normalised address.
    email: address.toUpperCase(),
    created_at: '2025-03-01T09:00:00Z',
    updated_at: '2025-03-01T09:00:00Z',
    currency: 'IDR',
    total_price: '189000',
    financial_status: 'paid',
    customer: null,
    line_items: [{ product_id: 77, sku: 'TOPI-1', quantity: 1, price: '189000' }],
    fulfillments: [{ tracking_number: `JNE${id}`, tracking_url: `https://track.example/${id}` }],
    refunds: [],
  };
}

beforeAll(async () => {
  shop = await openShop();
  orders = shop.candor.modules.find((m) => m.name === 'orders') as OrdersModule;
  await shop.call('POST', '/v1/consent', {
    body: { writeKey: shop.writeKey, userId: customerId, purposes: { analytics: true }, noticeVersion: '1' },
  });
  await shop.track({ type: 'identify', userId: customerId, traits: { email } });
  expect(await orders.service.fromPlatform('shopify', 'orders/create', guestOrder(5101, email), null)).toBe(
    'created',
  );
  expect(
    await orders.service.fromPlatform(
      'shopify',
      'orders/create',
      guestOrder(5102, `other.${tag}@example.test`),
      null,
    ),
  ).toBe('created');
});
afterAll(async () => {
  await shop.close();
  shop.dir.cleanup();
});

const orderRow = async (orderId: string) =>
  (await shop.candor.stores.state.db
    .selectFrom('orders')
    .selectAll()
    .where('order_id', '=', orderId)
    .executeTakeFirst()) as Record<string, unknown> | undefined;

describe('guest orders of a known shopper', () => {
  it('are in the export and in the shopper’s own order list', async () => {
    expect((await orderRow('5101'))?.subject_id).toBeNull();
    const token = await shop.shopperToken(customerId);
    const res = await shop.call('GET', '/v1/me/export', { auth: token });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { sections: Record<string, { tables: Record<string, unknown[]> }> };
    const rows = doc.sections.orders!.tables.orders as { orderId: string; trackingNumber: string | null }[];
    expect(rows.map((r) => r.orderId)).toEqual(['5101']);
    expect(rows[0]!.trackingNumber).toBe('JNE5101');
    const mine = await shop.call('GET', '/v1/me/orders', { auth: token });
    expect(mine.status).toBe(200);
    const list = ((await mine.json()) as { orders: { orderId: string }[] }).orders;
    expect(list.map((o) => o.orderId)).toEqual(['5101']);
  });

  it('are de-identified by the erasure, and another person’s guest order is untouched', async () => {
    const token = await shop.shopperToken(customerId);
    const erased = await shop.call('POST', '/v1/me/erase', { auth: token, body: { jurisdiction: 'gdpr' } });
    expect(erased.status).toBe(200);
    expect(((await erased.json()) as { status: string }).status).toBe('completed');
    expect(await orderRow('5101')).toMatchObject({
      subject_id: null,
      email_hash: null,
      tracking_number: null,
      tracking_url: null,
    });
    expect((await orderRow('5101'))?.deidentified_at).not.toBeNull();
    const other = await orderRow('5102');
    expect(other?.email_hash).not.toBeNull();
    expect(other?.tracking_number).toBe('JNE5102');
    expect(other?.deidentified_at).toBeNull();
  });
});
