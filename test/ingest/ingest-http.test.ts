import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signShopperToken } from '../../src/modules/auth/index.ts';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const iso = (ms: number) => new Date(ms).toISOString();

async function consent(
  anonymousId: string,
  purposes: Record<string, boolean>,
  extra: Record<string, unknown> = {},
  headers = {},
) {
  const res = await h.post('/v1/consent', { anonymousId, purposes, noticeVersion: '1', ...extra }, headers);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('tracking API', () => {
  it('drops events without consent and stores them after consent, with the consent record named', async () => {
    const before = await h.candor.stores.events.count();
    const r1 = await h.post('/v1/track', {
      anonymousId: 'dev-1',
      event: 'Product Viewed',
      messageId: 'm1',
      properties: { product_id: 'p1' },
    });
    expect(r1.status).toBe(200);
    expect(await r1.json()).toEqual({ success: true, accepted: 0, dropped: 1, quarantined: 0 });

    const c = await consent('dev-1', { analytics: true });
    expect(c.status).toBe(201);
    const r2 = await h.post('/v1/track', {
      anonymousId: 'dev-1',
      event: 'Product Viewed',
      messageId: 'm2',
      properties: { product_id: 'p1', secret_field: 'x' },
    });
    expect(await r2.json()).toEqual({ success: true, accepted: 1, dropped: 0, quarantined: 0 });
    expect(await h.candor.stores.events.count()).toBe(before + 1);
    const [stored] = await h.candor.stores.events.eventsOfSubjects([
      h.candor.modules.length ? pseudo('device', 'dev-1') : '',
    ]);
    expect(stored).toMatchObject({
      type: 'product_view',
      productId: 'p1',
      purpose: 'analytics',
      consentId: c.body.consentId,
    });
    expect(stored!.props).not.toContain('secret_field');
    expect(stored!.anonymousId).not.toBe('dev-1');
  });

  it('withdrawal takes effect for the next event; an event timed before it is judged by the state then', async () => {
    await consent('dev-2', { analytics: true });
    const beforeWithdrawal = Date.now() - 1;
    await new Promise((r) => setTimeout(r, 5));
    await consent('dev-2', { analytics: false });
    const after = await h.post('/v1/page', {
      anonymousId: 'dev-2',
      messageId: 'w1',
      properties: { path: '/a' },
    });
    expect(await after.json()).toMatchObject({ accepted: 0, dropped: 1 });
    const old = await h.post('/v1/page', {
      anonymousId: 'dev-2',
      messageId: 'w2',
      timestamp: iso(beforeWithdrawal),
      properties: { path: '/b' },
    });
    expect(await old.json()).toMatchObject({ accepted: 1, dropped: 0 });
  });

  it('accepts Segment batches as text/plain with the write key in the body, and dedupes on messageId', async () => {
    await consent('dev-3', { analytics: true });
    const batch = {
      writeKey: h.writeKey,
      sentAt: iso(Date.now()),
      batch: [
        {
          type: 'page',
          anonymousId: 'dev-3',
          messageId: 'b1',
          timestamp: iso(Date.now()),
          context: { page: { path: '/home?email=a@b.example' } },
        },
        {
          type: 'track',
          event: 'Products Searched',
          anonymousId: 'dev-3',
          messageId: 'b2',
          properties: { query: 'call me 0812 3456 7890 or x@y.example', results: 3 },
        },
        { type: 'track', event: 'Newsletter Joined', anonymousId: 'dev-3', messageId: 'b3' },
        {
          type: 'track',
          event: 'Product Viewed',
          anonymousId: 'dev-3',
          messageId: 'b4',
          context: { userAgent: 'Googlebot/2.1 (+http://www.google.com/bot.html)' },
        },
      ],
    };
    const send = () =>
      h.candor.app.request('/v1/batch', {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify(batch),
      });
    const r = await send();
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ success: true, accepted: 2, dropped: 1, quarantined: 1 });
    const count = await h.candor.stores.events.count();
    expect((await (await send()).json()) as object).toMatchObject({ accepted: 2 });
    expect(await h.candor.stores.events.count()).toBe(count);
    const events = await h.candor.stores.events.eventsOfSubjects([pseudo('device', 'dev-3')]);
    const search = events.find((e) => e.type === 'search')!;
    expect(search.query).toBe('call me [phone] or [email]');
    expect(events.find((e) => e.type === 'page_view')!.path).toBe('/home');
  });

  it('keeps completed orders without analytics consent, labelled necessary', async () => {
    const r = await h.post('/v1/track', {
      userId: 'cust-9',
      event: 'Order Completed',
      messageId: 'o1',
      properties: {
        order_id: 'ord-1',
        revenue: 150000,
        currency: 'idr',
        products: [{ product_id: 'p1', quantity: 2, price: 75000 }],
      },
    });
    expect(await r.json()).toMatchObject({ accepted: 1 });
    const [order] = await h.candor.stores.events.eventsOfSubjects([pseudo('user', 'cust-9')]);
    expect(order).toMatchObject({
      type: 'order_completed',
      purpose: 'necessary',
      consentId: null,
      orderId: 'ord-1',
      revenue: 150000,
      currency: 'IDR',
    });
  });

  it('answers malformed requests with 4xx codes', async () => {
    expect((await h.post('/v1/track', '{nope')).status).toBe(400);
    const noKey = await h.candor.app.request('/v1/track', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(noKey.status).toBe(401);
    expect(((await noKey.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const bad = await h.post('/v1/track', { anonymousId: 'x', event: 'Product Viewed', messageId: 7 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    const big = await h.post('/v1/batch', {
      batch: Array.from({ length: 501 }, () => ({ type: 'page', anonymousId: 'a' })),
    });
    expect(big.status).toBe(413);
  });

  it('answers CORS preflights for the tracking endpoints', async () => {
    const r = await h.candor.app.request('/v1/batch', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('consent API', () => {
  it('records GPC as an opt-out of advertising and sale, and a later explicit choice wins', async () => {
    await h.post('/v1/page', { userId: 'cust-gpc', messageId: 'g1' }, { 'sec-gpc': '1' });
    const token = await signShopperToken(h.candor.config.secrets.shopperTokenSecret!, 'cust-gpc', 300);
    const read = async () => {
      const r = await h.candor.app.request('/v1/me/consent', {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(r.status).toBe(200);
      return (await r.json()) as {
        current: Record<string, { granted: boolean; method: string | null }>;
        history: unknown[];
      };
    };
    let me = await read();
    expect(me.current.advertising).toMatchObject({ granted: false, method: 'gpc' });
    expect(me.current.sale).toMatchObject({ granted: false, method: 'gpc' });
    expect(me.history).toHaveLength(1);

    const r = await h.post('/v1/consent', {
      userId: 'cust-gpc',
      purposes: { advertising: true },
      noticeVersion: '1',
    });
    expect(r.status).toBe(201);
    await h.post('/v1/page', { userId: 'cust-gpc', messageId: 'g2' }, { 'sec-gpc': '1' });
    me = await read();
    expect(me.current.advertising).toMatchObject({ granted: true, method: 'banner' });
    expect(me.current.sale).toMatchObject({ granted: false, method: 'gpc' });
    expect(me.history).toHaveLength(2);
  });

  it('rejects unknown notice versions and bad purposes', async () => {
    expect((await consent('dev-x', { analytics: true }, { noticeVersion: 'nope' })).status).toBe(422);
    expect((await consent('dev-x', { analytics: 'yes' } as never)).status).toBe(400);
    expect((await consent('dev-x', { tracking: true })).status).toBe(400);
  });

  it('publishes the default notice with its SHA-256', async () => {
    const r = await h.candor.app.request('/v1/consent/notices/current');
    expect(r.status).toBe(200);
    const n = (await r.json()) as { version: string; hashes: Record<string, string> };
    expect(n.version).toBe('1');
    expect(n.hashes.en).toMatch(/^[0-9a-f]{64}$/);
  });
});

import { createPseudonymizer } from '../../src/kernel/crypto.ts';
function pseudo(ns: string, v: string): string {
  return createPseudonymizer(h.candor.config.secrets.pseudonymKey!)(ns, v);
}
