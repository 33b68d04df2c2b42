/**
 * Ingestion behaviour every store must carry, written once: SQLite/DuckDB in ingest.contract.test.ts (one
 * process answers both sides), PostgreSQL in ingest.server.test.ts (two Candor instances on one schema, as
 * two API processes behind a load balancer): the consent gate judging each event by the latest decision
 * wherever it was recorded, quarantine without content, signed order webhooks and order imports stored once
 * however often and wherever they arrive.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importOrdersInto } from '../../src/cli/import.command.ts';
import type { IngestModule } from '../../src/modules/ingest/index.ts';
import { signWebhook } from '../../src/modules/ingest/webhooks.service.ts';
import type { Shop } from '../privacy/helpers.ts';

export type ShopPair = { a: Shop; b: Shop; close(): Promise<void> };

const ingestOf = (shop: Shop) => shop.candor.modules.find((m) => m.name === 'ingest') as IngestModule;

export function ingestContract(name: string, open: () => Promise<ShopPair>): void {
  describe(`ingestion (${name})`, () => {
    let p: ShopPair;
    beforeAll(async () => {
      p = await open();
    });
    afterAll(async () => p?.close());

    const basic = (shop: Shop) => `Basic ${Buffer.from(`${shop.writeKey}:`).toString('base64')}`;
    const batch = async (shop: Shop, events: Record<string, unknown>[]) => {
      const res = await shop.call('POST', '/v1/batch', { body: { batch: events }, auth: basic(shop) });
      expect(res.status).toBe(200);
      return (await res.json()) as { accepted: number; dropped: number; quarantined: number };
    };

    it('judges every event by the latest decision, whichever process recorded it', async () => {
      const device = `dev-${randomBytes(4).toString('hex')}`;
      for (let i = 0; i < 12; i++) {
        const on = i % 2 === 0;
        const decided = await p.a.call('POST', '/v1/consent', {
          body: {
            writeKey: p.a.writeKey,
            anonymousId: device,
            purposes: { analytics: on },
            noticeVersion: '1',
          },
        });
        expect(decided.status).toBe(201);
        // The shopper's next page view lands on the other process at once.
        const outcome = await batch(p.b, [
          { type: 'track', event: 'Product Viewed', anonymousId: device, messageId: `${device}-${i}` },
        ]);
        expect({ i, accepted: outcome.accepted, dropped: outcome.dropped }).toEqual({
          i,
          accepted: on ? 1 : 0,
          dropped: on ? 0 : 1,
        });
      }
    });

    it('quarantines malformed events with a reason and none of their content, on either process', async () => {
      const device = `dev-${randomBytes(4).toString('hex')}`;
      await p.a.call('POST', '/v1/consent', {
        body: {
          writeKey: p.a.writeKey,
          anonymousId: device,
          purposes: { analytics: true },
          noticeVersion: '1',
        },
      });
      const secret = `leak.${device}@example.test`;
      for (const shop of [p.a, p.b]) {
        const outcome = await batch(shop, [
          { type: 'track', event: 'Newsletter Joined', anonymousId: device, properties: { email: secret } },
          { type: 'track', event: 'Product Viewed', anonymousId: device },
        ]);
        expect(outcome).toMatchObject({ accepted: 1, quarantined: 1 });
      }
      const rows = await p.a.candor.stores.state.db.selectFrom('ingest_quarantine').selectAll().execute();
      const reasons = rows.map((r) => (r as { reason: string }).reason);
      expect(reasons.filter((r) => r === 'unknown_event').length).toBeGreaterThanOrEqual(2);
      expect(JSON.stringify(rows)).not.toContain(secret);
      expect(JSON.stringify(rows)).not.toContain('Newsletter');
    });

    it('stores a signed order webhook once, however often and to whichever process it is delivered', async () => {
      const ingest = ingestOf(p.a);
      const source = await p.a.candor.stores.state.db
        .selectFrom('sources')
        .select('id')
        .orderBy('created_at')
        .executeTakeFirstOrThrow();
      const { secret } = await ingest.webhooks.createSecret({
        sourceId: source.id,
        platform: 'woocommerce',
        actor: 'test',
      });
      const orderId = 100_000 + Math.floor(Math.random() * 800_000);
      const raw = JSON.stringify({
        id: orderId,
        number: String(orderId),
        date_created_gmt: new Date(Date.now() - 60_000).toISOString().slice(0, 19),
        currency: 'IDR',
        total: '259900',
        customer_id: 0,
        billing: { email: `guest.${orderId}@example.test` },
        line_items: [{ product_id: 93, quantity: 2, price: 129950, sku: 'KAOS-01' }],
      });
      const send = (shop: Shop, signature: string) =>
        shop.candor.app.request('/v1/webhooks/woocommerce/orders', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'X-WC-Webhook-Signature': signature },
          body: raw,
        });
      const signature = signWebhook(secret, raw);
      for (const shop of [p.a, p.b, p.a]) expect((await send(shop, signature)).status).toBeLessThan(300);
      expect((await send(p.b, signWebhook('not-the-secret', raw))).status).toBe(401);
      const orders = async () =>
        p.b.candor.stores.events.db
          .selectFrom('events')
          .selectAll()
          .where('order_id', '=', `wc-${orderId}`)
          .execute();
      const deadline = Date.now() + 10_000;
      while ((await orders()).length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 25));
      const rows = await orders();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ type: 'order_completed', purpose: 'necessary' });
      expect(JSON.stringify(rows)).not.toContain(`guest.${orderId}@example.test`);
    });

    it('an order import run through both processes stores every order once', async () => {
      const file = path.join(p.a.dir.path, `orders-${randomBytes(3).toString('hex')}.csv`);
      const day = (d: number) =>
        new Date(Date.UTC(2011, 0, d, 10, 0)).toISOString().slice(0, 19).replace('T', ' ');
      const base = 700_000 + Math.floor(Math.random() * 200_000);
      writeFileSync(
        file,
        [
          'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
          `${base},85123A,WHITE HANGING HEART,6,${day(3)},2.55,17850.0,United Kingdom`,
          `${base + 1},22633,HAND WARMER,6,${day(4)},1.85,,United Kingdom`,
          `${base + 2},22961,JAM MAKING SET,3,${day(5)},1.45,13047.0,France`,
        ].join('\n'),
      );
      const first = await importOrdersInto(p.a.candor, { file, format: 'online-retail', consent: [] });
      expect(first).toMatchObject({ orders: 3, accepted: 3 });
      await importOrdersInto(p.b.candor, { file, format: 'online-retail', consent: [] });
      const rows = await p.a.candor.stores.events.db
        .selectFrom('events')
        .select(['order_id'])
        .where('order_id', 'in', [String(base), String(base + 1), String(base + 2)])
        .execute();
      expect(rows.map((r) => r.order_id).sort()).toEqual([String(base), String(base + 1), String(base + 2)]);
    });
  });
}
