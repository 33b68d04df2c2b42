/**
 * What the catch-up from stored order events must do on every store pair (SQLite + DuckDB in
 * `catch-up.test.ts`, PostgreSQL in `catch-up.server.test.ts`): order events whose live notification never
 * came (they are appended straight to the event store here, as a crash leaves them) get their records,
 * once, across page boundaries and equal receive times; the cursor bounds what later runs read; a record a
 * webhook made is never overwritten; an erased shopper's order is not brought back from an event that is
 * still stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { createPseudonymizer } from '../../kernel/crypto.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { makeEvent } from '../../storage/contract/event-store.contract.ts';
import type { EventRecord, EventStore, StateStore } from '../../storage/ports.ts';
import { shopifyOrder } from './orders.contract.testkit.ts';
import { orderEventReader } from './order-events.ts';
import { createOrdersService } from './orders.service.ts';
import { createOrderStore, ordersMigrations } from './store.ts';

export type CatchUpHarness = { state: StateStore; events: EventStore; close(): Promise<void> };

const KEY = Buffer.alloc(32, 9).toString('base64');
const NOW = Date.UTC(2025, 0, 2);
const MINUTE = 60_000;

function orderEvent(
  orderId: string,
  subject: string,
  receivedAt: number,
  type = 'order_completed',
): EventRecord {
  return makeEvent(0, {
    eventId: `ev-${orderId}-${type}`,
    subjectId: subject,
    anonymousId: subject,
    userId: null,
    type,
    purpose: 'necessary',
    // An imported order is dated long before it is received: the catch-up goes by the receive time.
    ts: receivedAt - 400 * 24 * 60 * MINUTE,
    receivedAt,
    orderId: type === 'order_completed' ? orderId : null,
    revenue: 120_000,
    currency: 'IDR',
    props: JSON.stringify({ products: [{ product_id: 'p1', quantity: 1, price: 120_000 }] }),
  });
}

export function catchUpContract(name: string, open: () => Promise<CatchUpHarness>): void {
  describe(`order records from stored events, catch-up (${name})`, () => {
    let h: CatchUpHarness;
    beforeAll(async () => {
      h = await open();
      await h.state.migrate(ordersMigrations(h.state));
    });
    afterAll(async () => {
      await h.close();
    });

    const service = (clockAt: number) =>
      createOrdersService({
        store: createOrderStore(h.state),
        clock: fixedClock(new Date(clockAt).toISOString()),
        logger: silentLogger(),
        pseudonymize: createPseudonymizer(KEY),
        retentionDays: async () => 3650,
        orderEvents: orderEventReader(h.events.db),
        catchUpMarginMs: 10 * MINUTE,
      });
    const count = async () =>
      Number(
        (
          await createOrderStore(h.state)
            .db.selectFrom('orders')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    it('records every stored order event once, across pages and equal receive times, then moves its cursor', async () => {
      const store = createOrderStore(h.state);
      // A webhook already made one of them, with a later status than an event can give.
      const orders = service(NOW);
      expect(
        await orders.fromPlatform(
          'shopify',
          'orders/updated',
          shopifyOrder({
            id: 'o-0007',
            fulfillments: [{ tracking_number: 'JNE1', shipment_status: 'in_transit' }],
          }),
          'src_shop',
        ),
      ).toBe('created');
      expect((await store.get('o-0007'))?.status).toBe('shipped');

      // 1,203 order events (more than two pages), 60 of them sharing each receive time, and page views.
      const events: EventRecord[] = [];
      for (let i = 0; i < 1203; i++) {
        events.push(
          orderEvent(
            `o-${String(i).padStart(4, '0')}`,
            `s-${i % 97}`,
            NOW - 30 * MINUTE + Math.floor(i / 60),
          ),
        );
      }
      for (let i = 0; i < 50; i++)
        events.push(orderEvent(`pv-${i}`, `s-${i}`, NOW - 20 * MINUTE, 'page_view'));
      await h.events.append(events);
      expect(await store.eventCursor()).toBeNull();

      const first = await orders.catchUpFromEvents();
      expect(first).toEqual({ scanned: 1203, created: 1202 });
      expect(await count()).toBe(1203);
      expect((await store.get('o-0007'))?.status).toBe('shipped');
      const made = await store.get('o-1202');
      expect(made).toMatchObject({ status: 'paid', source: 'events', subject_id: 's-38', currency: 'IDR' });
      expect(Number(made!.total)).toBe(120_000);
      // Everything received before the run's start less the margin has its record.
      expect(await store.eventCursor()).toBe(NOW - 10 * MINUTE);

      // A second run reads only what was received since the cursor and creates nothing.
      const again = await service(NOW + MINUTE).catchUpFromEvents();
      expect(again).toEqual({ scanned: 0, created: 0 });
      expect(await store.eventCursor()).toBe(NOW - 9 * MINUTE);
    });

    it('reads from the cursor on: an order received within the margin is found by the next run', async () => {
      const store = createOrderStore(h.state);
      const cursor = (await store.eventCursor())!;
      // Received before the last run began, stored after it (a slow commit): inside the margin.
      await h.events.append([orderEvent('late-1', 's-late', cursor + 2 * MINUTE)]);
      const run = await service(cursor + 12 * MINUTE).catchUpFromEvents();
      expect(run).toEqual({ scanned: 1, created: 1 });
      expect((await store.get('late-1'))?.subject_id).toBe('s-late');
      // The cursor only moves forward, also when a run with an earlier clock finishes last.
      await service(cursor - 60 * MINUTE).catchUpFromEvents();
      expect(await store.eventCursor()).toBe(cursor + 2 * MINUTE);
    });

    it('does not bring back the order of a shopper erased while the event is still stored', async () => {
      const store = createOrderStore(h.state);
      const cursor = (await store.eventCursor())!;
      const at = cursor + 5 * MINUTE;
      const orders = service(at + MINUTE);
      // Erasure reaches the orders holder before the events holder deletes the shopper's events.
      await orders.erase(['s-gone']);
      await h.events.append([orderEvent('gone-1', 's-gone', at), orderEvent('kept-1', 's-kept', at)]);
      const run = await orders.catchUpFromEvents();
      expect(run.created).toBe(1);
      expect(await store.get('gone-1')).toBeUndefined();
      expect(await store.get('kept-1')).toBeDefined();
      expect(await store.ofSubjects(['s-gone'])).toEqual([]);
    });
  });
}
