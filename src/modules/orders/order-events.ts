/**
 * Reads stored `order_completed` events back from the event store, in the order they were received, for
 * the catch-up that makes order records of events whose live notification was lost (a crash between the
 * event's commit and its order record, a full queue, a failed write). Keyset pages on
 * (received_at, event_id), so a page boundary never skips or repeats an event.
 */
import type { Kysely } from 'kysely';
import { eventFromRow } from '../../storage/index.ts';
import type { EventTables } from '../../storage/ports.ts';
import type { OrderEvent } from './orders.service.ts';

/** An order event with what the catch-up pages on. */
export type StoredOrderEvent = OrderEvent & { eventId: string; receivedAt: number };

export type OrderEventPage = (
  fromReceivedAt: number,
  after: { receivedAt: number; eventId: string } | null,
  limit: number,
) => Promise<StoredOrderEvent[]>;

export function orderEventReader(db: Kysely<EventTables>): OrderEventPage {
  return async (fromReceivedAt, after, limit) => {
    let q = db
      .selectFrom('events')
      .selectAll()
      .where('type', '=', 'order_completed')
      .where('order_id', 'is not', null)
      .where('received_at', '>=', new Date(fromReceivedAt));
    if (after !== null) {
      const at = new Date(after.receivedAt);
      q = q.where((eb) =>
        eb.or([
          eb('received_at', '>', at),
          eb.and([eb('received_at', '=', at), eb('event_id', '>', after.eventId)]),
        ]),
      );
    }
    const rows = await q
      .orderBy('received_at')
      .orderBy('event_id')
      .limit(Math.max(1, Math.trunc(limit)))
      .execute();
    return rows.map((row) => {
      const e = eventFromRow(row);
      return {
        eventId: e.eventId,
        receivedAt: e.receivedAt,
        type: e.type,
        sourceId: e.sourceId,
        subjectId: e.subjectId,
        userId: e.userId,
        orderId: e.orderId,
        revenue: e.revenue,
        currency: e.currency,
        ts: e.ts,
        props: e.props,
      };
    });
  };
}
