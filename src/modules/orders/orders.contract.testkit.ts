/** What the order records must do on every state store (run on SQLite and on PostgreSQL). */
import { expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { createPseudonymizer } from '../../kernel/crypto.ts';
import { silentLogger } from '../../kernel/logger.ts';
import type { StateStore } from '../../storage/ports.ts';
import { createErasedSubjects, privacyMigrations } from '../privacy/index.ts';
import { createOrdersService, type OrderEvent } from './orders.service.ts';
import { createOrderStore, ordersMigrations } from './store.ts';

const KEY = Buffer.alloc(32, 7).toString('base64');
const DAY = 86_400_000;

/** A Shopify order (orders/create … orders/updated) as the platform sends it, trimmed. */
export function shopifyOrder(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 450789469,
    name: '#1001',
    order_number: 1001,
    email: 'Ana.Lee@Example.test',
    created_at: '2025-01-01T09:00:00Z',
    processed_at: '2025-01-01T09:00:00Z',
    updated_at: '2025-01-01T09:00:00Z',
    currency: 'idr',
    total_price: '259900',
    financial_status: 'paid',
    fulfillment_status: null,
    customer: { id: 207119551, email: 'ana.lee@example.test', first_name: 'Ana' },
    line_items: [{ product_id: 632910392, sku: 'KAOS-01', quantity: 2, price: '129950' }],
    fulfillments: [],
    refunds: [],
    ...over,
  };
}

export function ordersContract(open: () => Promise<StateStore>) {
  const setup = async () => {
    const state = await open();
    await state.migrate(ordersMigrations(state));
    const clock = fixedClock('2025-01-02T00:00:00Z');
    const pseudonymize = createPseudonymizer(KEY);
    const store = createOrderStore(state);
    const service = createOrdersService({
      store,
      clock,
      logger: silentLogger(),
      pseudonymize,
      retentionDays: async () => 3650,
    });
    return { state, store, service, clock, pseudonymize };
  };

  it('records a Shopify order, then its fulfilment, and ignores an older delivery that arrives late', async () => {
    const { service, store } = await setup();
    expect(await service.fromPlatform('shopify', 'orders/create', shopifyOrder(), 'src_1')).toBe('created');
    const row = (await store.get('450789469'))!;
    expect(row).toMatchObject({ ref: '1001', status: 'paid', currency: 'IDR', source: 'shopify' });
    expect(Number(row.total)).toBe(259900);
    // Only a keyed hash of the e-mail is stored.
    expect(JSON.stringify(row).toLowerCase()).not.toContain('example.test');
    expect(row.email_hash).toMatch(/^[A-Za-z0-9_-]{32}$/);

    const shipped = shopifyOrder({
      updated_at: '2025-01-01T12:00:00Z',
      fulfillment_status: 'fulfilled',
      fulfillments: [
        {
          status: 'success',
          tracking_company: 'JNE',
          tracking_number: 'JNE0012345678',
          tracking_url: 'https://track.example.test/JNE0012345678',
          shipment_status: 'in_transit',
        },
      ],
    });
    expect(await service.fromPlatform('shopify', 'orders/updated', shipped, 'src_1')).toBe('updated');
    // The create delivery again (a platform retry), older than what is stored: no effect.
    expect(await service.fromPlatform('shopify', 'orders/create', shopifyOrder(), 'src_1')).toBe('stale');
    expect(await store.get('450789469')).toMatchObject({
      status: 'shipped',
      carrier: 'JNE',
      tracking_number: 'JNE0012345678',
    });
    // A fulfilment update on its own topic moves it to delivered.
    await service.fromPlatform(
      'shopify',
      'fulfillments/update',
      {
        id: 1,
        order_id: 450789469,
        status: 'success',
        shipment_status: 'delivered',
        tracking_company: 'JNE',
      },
      'src_1',
    );
    expect((await store.get('450789469'))!.status).toBe('delivered');
    // A refund (delivered twice) counts once.
    const refund = {
      id: 9,
      order_id: 450789469,
      transactions: [{ kind: 'refund', status: 'success', amount: '129950' }],
    };
    await service.fromPlatform('shopify', 'refunds/create', refund, 'src_1');
    await service.fromPlatform('shopify', 'refunds/create', refund, 'src_1');
    const refunded = (await store.get('450789469'))!;
    expect(refunded.status).toBe('partially_refunded');
    expect(Number(refunded.refunded)).toBe(129950);
    expect(await service.fromPlatform('shopify', 'refunds/create', { ...refund, order_id: 1 }, 'src_1')).toBe(
      'unknown_order',
    );
    expect(await service.fromPlatform('shopify', 'orders/delete', { id: 450789469 }, 'src_1')).toBe(
      'ignored',
    );
  });

  it('reads WooCommerce orders with Shipment Tracking meta data and refunds', async () => {
    const { service, store } = await setup();
    const woo = {
      id: 727,
      number: '727',
      status: 'processing',
      currency: 'IDR',
      total: '259900.00',
      customer_id: 0,
      date_created_gmt: '2025-01-01T08:00:00',
      date_modified_gmt: '2025-01-01T10:00:00',
      billing: { email: 'guest@example.test', phone: '+62 800 1234 567' },
      line_items: [{ product_id: 93, quantity: 2, price: 129950 }],
      meta_data: [
        {
          key: '_wc_shipment_tracking_items',
          value: [{ tracking_provider: 'SiCepat', tracking_number: 'SC-99887766' }],
        },
      ],
      refunds: [],
    };
    expect(await service.fromPlatform('woocommerce', 'order.updated', woo, 'src_1')).toBe('created');
    const row = (await store.get('wc-727'))!;
    expect(row).toMatchObject({ ref: '727', status: 'shipped', carrier: 'SiCepat', subject_id: null });
    expect(Number(row.placed_at)).toBe(Date.parse('2025-01-01T08:00:00Z'));
    expect(JSON.stringify(row)).not.toContain('+62');
    await service.fromPlatform(
      'woocommerce',
      'order.updated',
      { ...woo, date_modified_gmt: '2025-01-02T10:00:00', refunds: [{ id: 5, total: '-10000.00' }] },
      'src_1',
    );
    expect((await store.get('wc-727'))!.status).toBe('partially_refunded');
    expect(
      await service.verify({ orderId: '#727', email: ' GUEST@example.test ', subjectId: null }),
    ).toMatchObject({ orderId: '727', status: 'partially_refunded', carrier: 'SiCepat', cancellable: false });
  });

  it('verifies by order number and e-mail or by the shopper, answering null alike for unknown and wrong', async () => {
    const { service, pseudonymize } = await setup();
    await service.fromPlatform('shopify', 'orders/create', shopifyOrder(), 'src_1');
    expect(
      await service.verify({ orderId: '#1001', email: 'ana.lee@example.test', subjectId: null }),
    ).toEqual({
      orderId: '1001',
      status: 'paid',
      carrier: null,
      trackingNumber: null,
      trackingUrl: null,
      cancellable: true,
    });
    // The platform's own id works too.
    expect(
      await service.verify({ orderId: '450789469', email: 'ANA.LEE@EXAMPLE.TEST', subjectId: null }),
    ).not.toBeNull();
    expect(
      await service.verify({ orderId: '1001', email: 'someone@example.test', subjectId: null }),
    ).toBeNull();
    expect(
      await service.verify({ orderId: '9999', email: 'ana.lee@example.test', subjectId: null }),
    ).toBeNull();
    expect(await service.verify({ orderId: '1001', email: null, subjectId: null })).toBeNull();
    const shopper = pseudonymize('user', '207119551');
    expect(await service.verify({ orderId: '1001', email: null, subjectId: shopper })).not.toBeNull();
    expect(
      await service.verify({ orderId: '1001', email: null, subjectId: pseudonymize('user', '1') }),
    ).toBeNull();
    expect((await service.forShopper(shopper)).map((o) => o.number)).toEqual(['1001']);
  });

  it('takes stored order events without overwriting what a webhook recorded', async () => {
    const { service, store, pseudonymize } = await setup();
    await service.fromPlatform(
      'shopify',
      'orders/create',
      shopifyOrder({ financial_status: 'pending' }),
      'src_1',
    );
    const subject = pseudonymize('user', 'cust-9');
    const event = (orderId: string): OrderEvent => ({
      type: 'order_completed',
      sourceId: 'src_2',
      subjectId: subject,
      userId: subject,
      orderId,
      revenue: 42.5,
      currency: 'GBP',
      ts: Date.parse('2024-12-24T10:00:00Z'),
      props: JSON.stringify({ items: [{ productId: 'P1', quantity: 3, price: 14.1666 }] }),
    });
    service.enqueueEvents([event('450789469'), event('536365'), { ...event('x'), type: 'page_view' }]);
    await service.drain();
    expect((await store.get('450789469'))!.status).toBe('placed');
    expect(await store.get('536365')).toMatchObject({
      status: 'paid',
      source: 'events',
      currency: 'GBP',
      subject_id: subject,
    });
    expect(await store.get('x')).toBeUndefined();
    const list = await service.list({ limit: 1 });
    expect(list.orders).toHaveLength(1);
    expect(list.orders[0]!.orderId).toBe('450789469');
    expect(JSON.stringify(list)).not.toContain(subject);
    const next = await service.list({ limit: 1, cursor: list.nextCursor! });
    expect(next.orders.map((o) => o.orderId)).toEqual(['536365']);
    expect(next.nextCursor).toBeNull();
    await expect(service.list({ limit: 1, cursor: 'bm9wZQ' })).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });

  it('an erasure in another process keeps order events read before it from linking orders to the shopper', async () => {
    const { state, store, service: elsewhere, clock, pseudonymize } = await setup();
    await state.migrate(privacyMigrations(state.dialect));
    const erased = createErasedSubjects({ state, clock });
    const eraseElsewhere = async (subject: string) => {
      await erased.record([subject]);
      await elsewhere.erase([subject]);
    };
    let duringWrite: (() => Promise<void>) | null = null;
    // This process takes stored events; the erasures run in the other one (`elsewhere`).
    const here = createOrdersService({
      store,
      clock,
      logger: silentLogger(),
      pseudonymize,
      retentionDays: async () => 3650,
      erased: {
        // The erasure of `duringWrite` lands right after the answer, before this process writes.
        among: async (ids) => {
          const answer = await erased.among(ids);
          const f = duringWrite;
          duringWrite = null;
          if (f) await f();
          return answer;
        },
      },
    });
    const [early, late, other] = ['cust-e1', 'cust-e2', 'cust-e3'].map((c) => pseudonymize('user', c)) as [
      string,
      string,
      string,
    ];
    const event = (orderId: string, subject: string): OrderEvent => ({
      type: 'order_completed',
      sourceId: 'src_2',
      subjectId: subject,
      userId: subject,
      orderId,
      revenue: 10,
      currency: 'IDR',
      ts: Date.parse('2025-01-01T10:00:00Z'),
      props: '{}',
    });
    await eraseElsewhere(early);
    duringWrite = () => eraseElsewhere(late);
    here.enqueueEvents([event('e-701', early), event('e-702', late), event('e-703', other)]);
    await here.drain();
    // Erased before: no order is made. Erased while the write was under way: the order stays for the
    // tax hold, as the erasure leaves a paid order, with no link to the shopper.
    expect(await store.get('e-701')).toBeUndefined();
    expect(await store.get('e-702')).toMatchObject({ subject_id: null, status: 'paid' });
    expect(await store.get('e-703')).toMatchObject({ subject_id: other });
    expect(await here.exportRows([early, late])).toEqual([]);
  });

  it('erasure de-identifies paid orders under the tax hold, deletes unpaid ones, and is idempotent', async () => {
    const { service, store, pseudonymize, clock } = await setup();
    const subject = pseudonymize('user', '207119551');
    await service.fromPlatform('shopify', 'orders/create', shopifyOrder(), 'src_1');
    await service.fromPlatform(
      'shopify',
      'orders/create',
      shopifyOrder({ id: 2, order_number: 1002, name: '#1002', financial_status: 'pending' }),
      'src_1',
    );
    const out = await service.erase([subject]);
    expect(out.deleted).toBe(2);
    expect(out.legalHolds).toEqual([
      expect.objectContaining({
        holder: 'orders',
        until: Date.parse('2025-01-01T09:00:00Z') + 3650 * DAY,
      }),
    ]);
    expect(await store.get('2')).toBeUndefined();
    const kept = (await store.get('450789469'))!;
    expect(kept).toMatchObject({ subject_id: null, email_hash: null, tracking_number: null, status: 'paid' });
    expect(Number(kept.deidentified_at)).toBe(clock.now().getTime());
    expect(
      await service.verify({ orderId: '1001', email: 'ana.lee@example.test', subjectId: null }),
    ).toBeNull();
    // A later delivery of the same order does not link it to the person again.
    await service.fromPlatform(
      'shopify',
      'orders/updated',
      shopifyOrder({ updated_at: '2025-01-03T00:00:00Z' }),
      'src_1',
    );
    expect(await store.get('450789469')).toMatchObject({ subject_id: null, email_hash: null });
    expect(await service.erase([subject])).toEqual({ deleted: 0 });
    expect(await service.exportRows([subject])).toEqual([]);
    // Retention: orders past their time go.
    expect(await service.purgeOlderThan(Date.parse('2025-06-01T00:00:00Z'))).toBe(1);
  });
}
