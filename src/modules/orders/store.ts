/**
 * The order records. One row per shop order, keyed by the shop's own order id. A shopper is linked only
 * by pseudonym (`subject_id`) and, for verification, by a keyed hash of the normalised order e-mail
 * (`email_hash`); the e-mail itself is never written. Rows that tax law requires the shop to keep survive
 * an erasure de-identified (`deidentified_at` set, subject, e-mail hash and tracking number cleared).
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { columnTypes, tablesOf } from '../../storage/index.ts';
import type { StateStore } from '../../storage/ports.ts';

type Num = number | string | bigint;

export const ORDER_STATUSES = [
  'placed',
  'paid',
  'shipped',
  'delivered',
  'cancelled',
  'refunded',
  'partially_refunded',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const ORDER_SOURCES = ['shopify', 'woocommerce', 'events'] as const;
export type OrderSource = (typeof ORDER_SOURCES)[number];

export type OrderItem = { productId: string; quantity: number; price: number };

export type OrderRow = {
  order_id: string;
  /** The number a shopper sees (#1001, 727, ORD-12345), normalised for look-up. */
  ref: string;
  subject_id: string | null;
  /** Keyed hash (HMAC) of the trimmed, lower-cased order e-mail; never the address. */
  email_hash: string | null;
  status: OrderStatus;
  carrier: string | null;
  tracking_number: string | null;
  tracking_url: string | null;
  /** JSON array of OrderItem. */
  items: string;
  total: number;
  refunded: number;
  currency: string;
  placed_at: Num;
  updated_at: Num;
  /** The platform's own modification time: an older delivery never overwrites a newer one. */
  platform_updated_at: Num | null;
  source: OrderSource;
  source_id: string | null;
  deidentified_at: Num | null;
};

/**
 * How far the catch-up from stored events has come: every `order_completed` event received before
 * `received_at` has its order record. One row (`name` = 'events').
 */
export type OrderEventCursorRow = { name: string; received_at: Num };

export type OrderTables = { orders: OrderRow; order_event_cursor: OrderEventCursorRow };

export function ordersMigrations(store: StateStore): Record<string, Migration> {
  const t = columnTypes(store.dialect);
  return {
    'orders-0001-orders': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('orders')
          .ifNotExists()
          .addColumn('order_id', t.text, (c) => c.primaryKey())
          .addColumn('ref', t.text, (c) => c.notNull())
          .addColumn('subject_id', t.text)
          .addColumn('email_hash', t.text)
          .addColumn('status', t.text, (c) => c.notNull())
          .addColumn('carrier', t.text)
          .addColumn('tracking_number', t.text)
          .addColumn('tracking_url', t.text)
          .addColumn('items', t.json, (c) => c.notNull())
          .addColumn('total', t.real, (c) => c.notNull())
          .addColumn('refunded', t.real, (c) => c.notNull().defaultTo(0))
          .addColumn('currency', t.text, (c) => c.notNull())
          .addColumn('placed_at', t.ts, (c) => c.notNull())
          .addColumn('updated_at', t.ts, (c) => c.notNull())
          .addColumn('platform_updated_at', t.ts)
          .addColumn('source', t.text, (c) => c.notNull())
          .addColumn('source_id', t.text)
          .addColumn('deidentified_at', t.ts)
          .execute();
        await db.schema.createIndex('orders_ref').ifNotExists().on('orders').column('ref').execute();
        await db.schema
          .createIndex('orders_subject')
          .ifNotExists()
          .on('orders')
          .column('subject_id')
          .execute();
        await db.schema
          .createIndex('orders_placed')
          .ifNotExists()
          .on('orders')
          .columns(['placed_at', 'order_id'])
          .execute();
      },
    },
    'orders-0002-event-cursor': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('order_event_cursor')
          .ifNotExists()
          .addColumn('name', t.text, (c) => c.primaryKey())
          .addColumn('received_at', t.ts, (c) => c.notNull())
          .execute();
      },
    },
    // Guest checkouts are found by their e-mail's keyed hash (privacy requests, the shopper's order list).
    'orders-0003-email-hash-index': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createIndex('orders_email_hash')
          .ifNotExists()
          .on('orders')
          .column('email_hash')
          .execute();
      },
    },
  };
}

/** What a caller may set on an order; absent fields keep their stored value. */
export type OrderPatch = Partial<
  Pick<
    OrderRow,
    | 'ref'
    | 'subject_id'
    | 'email_hash'
    | 'status'
    | 'carrier'
    | 'tracking_number'
    | 'tracking_url'
    | 'items'
    | 'total'
    | 'refunded'
    | 'currency'
    | 'placed_at'
    | 'platform_updated_at'
    | 'source'
    | 'source_id'
  >
>;

export function createOrderStore(state: StateStore) {
  const db = tablesOf<OrderTables>(state);
  return {
    db,
    get: (orderId: string) =>
      db.selectFrom('orders').selectAll().where('order_id', '=', orderId).executeTakeFirst(),
    /** Candidates for a number a shopper typed: the shop's order id itself, or its display number. */
    byRef: (orderId: string, ref: string) =>
      db
        .selectFrom('orders')
        .selectAll()
        .where((eb) => eb.or([eb('order_id', '=', orderId), eb('ref', '=', ref)]))
        .limit(5)
        .execute(),
    /** Received time before which every stored order event has its record; null before the first catch-up. */
    async eventCursor(): Promise<number | null> {
      const row = await db
        .selectFrom('order_event_cursor')
        .select('received_at')
        .where('name', '=', 'events')
        .executeTakeFirst();
      return row === undefined ? null : Number(row.received_at);
    },
    /** Moves the cursor forward only: two processes catching up at once cannot move it back. */
    async advanceEventCursor(receivedAt: number): Promise<void> {
      await db
        .insertInto('order_event_cursor')
        .values({ name: 'events', received_at: receivedAt })
        .onConflict((oc) =>
          oc
            .column('name')
            .doUpdateSet({ received_at: receivedAt })
            .where('order_event_cursor.received_at', '<', receivedAt),
        )
        .execute();
    },
    /** One order stored under this e-mail hash, if any. */
    existingByEmailHash: (emailHash: string) =>
      db
        .selectFrom('orders')
        .select('order_id')
        .where('email_hash', '=', emailHash)
        .limit(1)
        .executeTakeFirst(),
    /** Which of these order ids have a record. */
    async existingOrderIds(orderIds: readonly string[]): Promise<Set<string>> {
      if (orderIds.length === 0) return new Set();
      const rows = await db
        .selectFrom('orders')
        .select('order_id')
        .where('order_id', 'in', [...new Set(orderIds)])
        .execute();
      return new Set(rows.map((r) => r.order_id));
    },
    /** Inserts unless the order exists; true when this call created it. */
    async insertIfAbsent(row: OrderRow): Promise<boolean> {
      const r = await db
        .insertInto('orders')
        .values(row)
        .onConflict((oc) => oc.column('order_id').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    /**
     * Applies a patch unless the stored row is newer on the platform's clock; true when it applied. The
     * guard is in the UPDATE itself, so two deliveries racing each other cannot put the older one last.
     */
    async update(orderId: string, patch: OrderPatch, updatedAt: number): Promise<boolean> {
      let q = db
        .updateTable('orders')
        .set({ ...patch, updated_at: updatedAt })
        .where('order_id', '=', orderId);
      const version = patch.platform_updated_at;
      if (version !== undefined && version !== null)
        q = q.where((eb) =>
          eb.or([eb('platform_updated_at', 'is', null), eb('platform_updated_at', '<=', version)]),
        );
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /**
     * A person's orders: by customer pseudonym, or by the keyed hash of the e-mail a guest checkout used
     * (the privacy subject carries it; the two namespaces never produce the same value).
     */
    ofSubjects: (subjectIds: readonly string[]) =>
      subjectIds.length === 0
        ? Promise.resolve([] as OrderRow[])
        : db
            .selectFrom('orders')
            .selectAll()
            .where((eb) =>
              eb.or([eb('subject_id', 'in', [...subjectIds]), eb('email_hash', 'in', [...subjectIds])]),
            )
            .orderBy('placed_at', 'desc')
            .orderBy('order_id')
            .execute(),
    /** Newest first, keyset-paginated on (placed_at, order_id). */
    list: (
      filter: { status?: OrderStatus | undefined; before?: { placedAt: number; orderId: string } },
      limit: number,
    ) => {
      let q = db.selectFrom('orders').selectAll();
      if (filter.status) q = q.where('status', '=', filter.status);
      const b = filter.before;
      if (b)
        q = q.where((eb) =>
          eb.or([
            eb('placed_at', '<', b.placedAt),
            eb.and([eb('placed_at', '=', b.placedAt), eb('order_id', '<', b.orderId)]),
          ]),
        );
      return q.orderBy('placed_at', 'desc').orderBy('order_id', 'desc').limit(limit).execute();
    },
    /**
     * Erasure in one transaction: orders the tax hold covers lose every link to the person; the rest go.
     * The person's orders are found as `ofSubjects` finds them (guest checkouts by their e-mail's hash).
     * Returns how many rows were deleted and de-identified, and the newest kept order's time.
     */
    async eraseSubjects(
      subjectIds: readonly string[],
      keep: readonly OrderStatus[],
      now: number,
    ): Promise<{ deleted: number; deidentified: number; newestKept: number | null }> {
      if (subjectIds.length === 0) return { deleted: 0, deidentified: 0, newestKept: null };
      return state.transaction(async (trx) => {
        const tx = trx as Kysely<OrderTables>;
        const kept = await tx
          .selectFrom('orders')
          .select(['order_id', 'placed_at'])
          .where((eb) =>
            eb.or([eb('subject_id', 'in', [...subjectIds]), eb('email_hash', 'in', [...subjectIds])]),
          )
          .where('status', 'in', [...keep])
          .execute();
        const deleted = Number(
          (
            await tx
              .deleteFrom('orders')
              .where((eb) =>
                eb.or([eb('subject_id', 'in', [...subjectIds]), eb('email_hash', 'in', [...subjectIds])]),
              )
              .where('status', 'not in', [...keep])
              .executeTakeFirst()
          ).numDeletedRows,
        );
        if (kept.length > 0)
          await tx
            .updateTable('orders')
            .set({
              subject_id: null,
              email_hash: null,
              tracking_number: null,
              tracking_url: null,
              deidentified_at: now,
              updated_at: now,
            })
            .where(
              'order_id',
              'in',
              kept.map((k) => k.order_id),
            )
            .execute();
        const newestKept = kept.reduce<number | null>(
          (m, k) => (m === null || Number(k.placed_at) > m ? Number(k.placed_at) : m),
          null,
        );
        return { deleted, deidentified: kept.length, newestKept };
      });
    },
    async purgeOlderThan(beforeTs: number): Promise<number> {
      const r = await db.deleteFrom('orders').where('placed_at', '<', beforeTs).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type OrderStore = ReturnType<typeof createOrderStore>;
