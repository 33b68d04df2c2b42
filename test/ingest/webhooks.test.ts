import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/modules/ingest/webhooks.service.ts';
import { startHarness, type Harness } from './harness.ts';

// Order payloads as Shopify (orders/create) and WooCommerce (order.created) send them, trimmed.
const shopifyOrder = {
  id: 820982911946154500,
  email: 'jon@example.test',
  created_at: new Date(Date.now() - 60_000).toISOString(),
  currency: 'USD',
  total_price: '199.00',
  customer: { id: 115310627314723950, email: 'jon@example.test', first_name: 'Jon' },
  line_items: [
    { product_id: 632910392, sku: 'IPOD2008PINK', quantity: 1, price: '199.00', title: 'IPod Nano' },
  ],
};
const wooOrder = {
  id: 727,
  number: '727',
  date_created_gmt: new Date(Date.now() - 60_000).toISOString().slice(0, 19),
  currency: 'IDR',
  total: '259900',
  customer_id: 0,
  billing: { email: 'guest@example.test', phone: '+62 800 1234 567' },
  line_items: [{ product_id: 93, quantity: 2, price: 129950, sku: 'KAOS-01' }],
};

describe('Shopify and WooCommerce order webhooks', () => {
  let h: Harness;
  let shopifySecret: string;
  let wooSecret: string;

  beforeAll(async () => {
    h = await startHarness({ inMemoryDisk: true });
    shopifySecret = (
      await h.ingest.webhooks.createSecret({
        sourceId: h.sourceId,
        platform: 'shopify',
        secret: 'shpss_0123456789abcdef0123456789abcdef',
        actor: 'test',
      })
    ).secret;
    wooSecret = (
      await h.ingest.webhooks.createSecret({ sourceId: h.sourceId, platform: 'woocommerce', actor: 'test' })
    ).secret;
  });
  afterAll(() => h?.close());

  const send = (platform: 'shopify' | 'woocommerce', raw: string, signature: string | null) =>
    h.candor.app.request(`/v1/webhooks/${platform}/orders`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(signature === null
          ? {}
          : { [platform === 'shopify' ? 'X-Shopify-Hmac-Sha256' : 'X-WC-Webhook-Signature']: signature }),
      },
      body: raw,
    });

  const orders = (orderId: string) =>
    h.candor.stores.events.db.selectFrom('events').selectAll().where('order_id', '=', orderId).execute();

  it('stores a signed Shopify order once as order_completed, without the e-mail, however often it is delivered', async () => {
    const raw = JSON.stringify(shopifyOrder);
    for (let i = 0; i < 3; i++) {
      const res = await send('shopify', raw, signWebhook(shopifySecret, raw));
      expect(res.status).toBe(200);
    }
    const rows = await orders(String(shopifyOrder.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      type: 'order_completed',
      purpose: 'necessary',
      consent_id: null,
      currency: 'USD',
    });
    expect(Number(rows[0]!.revenue)).toBe(199);
    expect(JSON.stringify(rows)).not.toContain('example.test');
    expect(rows[0]!.source_id).toBe(h.sourceId);
  });

  it('stores a signed WooCommerce guest order', async () => {
    const raw = JSON.stringify(wooOrder);
    const res = await send('woocommerce', raw, signWebhook(wooSecret, raw));
    expect(res.status).toBe(200);
    const rows = await orders('wc-727');
    expect(rows).toHaveLength(1);
    expect([Number(rows[0]!.revenue), rows[0]!.currency]).toEqual([259900, 'IDR']);
    expect(JSON.stringify(rows)).not.toMatch(/example\.test|800 1234/);
  });

  it('answers 401 with a code to a missing, wrong or other-platform signature and stores nothing', async () => {
    const raw = JSON.stringify({ ...shopifyOrder, id: 999 });
    const attempts = [
      await send('shopify', raw, null),
      await send('shopify', raw, signWebhook('not-the-secret-at-all-0000', raw)),
      await send('shopify', raw, signWebhook(shopifySecret, raw + ' ')),
      await send('shopify', raw, signWebhook(wooSecret, raw)),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
    expect(await orders('999')).toHaveLength(0);
  });

  it('refuses a signed body that is not an order with 400', async () => {
    const raw = JSON.stringify({ hello: 'world' });
    const res = await send('shopify', raw, signWebhook(shopifySecret, raw));
    expect(res.status).toBe(400);
  });

  it('keeps the secret sealed in the state store', async () => {
    const rows = await h.candor.stores.state.db.selectFrom('ingest_webhook_secrets').selectAll().execute();
    expect(rows).toHaveLength(2);
    expect(JSON.stringify(rows)).not.toContain(shopifySecret);
    expect(JSON.stringify(rows)).not.toContain(wooSecret);
  });
});
