/**
 * Order records: fed by platform webhooks (whole orders, fulfilments, refunds), by stored `order_completed`
 * events (tracking API, CSV imports) and read by staff, by the shopper and by the chatbot's verification.
 * Verification answers the same "not verified" for an unknown order and for a wrong e-mail, so it cannot
 * be used to find out which order numbers exist.
 */
import type { Clock } from '../../kernel/clock.ts';
import { constantTimeEqual, type Pseudonymizer } from '../../kernel/crypto.ts';
import { createExpiringSet } from '../../kernel/expiring-set.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { ErasedSubjects } from '../privacy/index.ts';
import { badCursor, orderNotFound } from './errors.ts';
import {
  normaliseEmail,
  normaliseRef,
  parsePlatformWebhook,
  type OrderPlatform,
  type PlatformOrder,
  type PlatformOrderPatch,
} from './platforms.ts';
import type { OrderEventPage } from './order-events.ts';
import type { OrderItem, OrderPatch, OrderRow, OrderStatus, OrderStore } from './store.ts';

/** Statuses whose order is a sale the shop must keep for tax, so erasure de-identifies instead of deleting. */
export const TAX_HOLD_STATUSES: readonly OrderStatus[] = [
  'paid',
  'shipped',
  'delivered',
  'refunded',
  'partially_refunded',
];
/** Statuses in which an order can still be cancelled before it leaves the warehouse. */
export const CANCELLABLE_STATUSES: readonly OrderStatus[] = ['placed', 'paid'];

/** The pseudonym namespace of order e-mails: distinct from customer and device pseudonyms. */
export const ORDER_EMAIL_NAMESPACE = 'order-email';
const CUSTOMER_NAMESPACE = 'user';
const DAY = 86_400_000;

/** A stored `order_completed` event, as the event store holds it (pseudonyms only). */
export type OrderEvent = {
  type: string;
  sourceId: string;
  subjectId: string;
  userId: string | null;
  orderId: string | null;
  revenue: number | null;
  currency: string | null;
  ts: number;
  props: string;
};

/** What verification tells the chatbot: enough to answer "where is my order", nothing else. */
export type VerifiedOrder = {
  orderId: string;
  status: OrderStatus;
  carrier: string | null;
  trackingNumber: string | null;
  trackingUrl: string | null;
  cancellable: boolean;
};

export type OrdersServiceDeps = {
  store: OrderStore;
  clock: Clock;
  logger: Logger;
  pseudonymize: Pseudonymizer;
  /** Every pseudonym linked to a shopper (identity graph); the pseudonym alone when absent. */
  linkedSubjects?: ((subjectId: string) => Promise<readonly string[]>) | undefined;
  /** Days orders are kept (the privacy module's `orders` retention class). */
  retentionDays?: (() => Promise<number>) | undefined;
  /** Stored order events in the order received (the event store); without it there is no catch-up. */
  orderEvents?: OrderEventPage | undefined;
  /**
   * How far behind its start a catch-up leaves its cursor, ms: an event received before the scan began
   * but stored after it (a slow commit, a worker behind on the stream) is still read by the next one.
   */
  catchUpMarginMs?: number | undefined;
  /**
   * Subjects erased lately by any process (privacy): orders are not made from their events, and orders
   * made while an erasure ran elsewhere are erased again.
   */
  erased?: Pick<ErasedSubjects, 'among'> | undefined;
};

/** Order events read and recorded per step of a catch-up. */
const CATCH_UP_PAGE = 500;
/** How long an erasure in this process keeps its subjects out of order records made from events. */
const ERASED_MEMORY_MS = 60 * 60 * 1000;

export const DEFAULT_ORDER_RETENTION_DAYS = 3650;

function parseItems(json: string): OrderItem[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? (v as OrderItem[]) : [];
  } catch {
    return [];
  }
}

/** Items of an `order_completed` event's props (minimised by ingestion to product, quantity, price). */
function itemsOfEvent(props: string): OrderItem[] {
  try {
    const p = JSON.parse(props) as { items?: unknown };
    if (!Array.isArray(p.items)) return [];
    return p.items
      .filter((i): i is Record<string, unknown> => typeof i === 'object' && i !== null)
      .map((i) => ({
        productId: typeof i.productId === 'string' ? i.productId : 'unknown',
        quantity: typeof i.quantity === 'number' ? i.quantity : 1,
        price: typeof i.price === 'number' ? i.price : 0,
      }));
  } catch {
    return [];
  }
}

const iso = (ts: unknown) => new Date(Number(ts)).toISOString();

export function createOrdersService(deps: OrdersServiceDeps) {
  const { store, clock, logger, pseudonymize } = deps;
  const now = () => clock.now().getTime();
  const hashEmail = (email: string) => pseudonymize(ORDER_EMAIL_NAMESPACE, normaliseEmail(email));
  const subjectsOf = async (subjectId: string) =>
    deps.linkedSubjects ? [...new Set([subjectId, ...(await deps.linkedSubjects(subjectId))])] : [subjectId];

  async function applyOrder(
    o: PlatformOrder,
    source: OrderPlatform,
    sourceId: string | null,
  ): Promise<'created' | 'updated' | 'stale'> {
    const t = now();
    const subject = o.customerId !== null ? pseudonymize(CUSTOMER_NAMESPACE, o.customerId) : null;
    const emailHash = o.email !== null ? hashEmail(o.email) : null;
    const ref = normaliseRef(o.number ?? o.orderId);
    const created = await store.insertIfAbsent({
      order_id: o.orderId,
      ref,
      subject_id: subject,
      email_hash: emailHash,
      status: o.status,
      carrier: o.carrier,
      tracking_number: o.trackingNumber,
      tracking_url: o.trackingUrl,
      items: JSON.stringify(o.items),
      total: o.total,
      refunded: o.refunded,
      currency: o.currency,
      placed_at: o.placedAt ?? t,
      updated_at: t,
      platform_updated_at: o.platformUpdatedAt,
      source,
      source_id: sourceId,
      deidentified_at: null,
    });
    if (created) return 'created';
    const existing = await store.get(o.orderId);
    // A record kept for tax after an erasure stays unlinked: a later delivery does not re-attach the person.
    const linked = existing?.deidentified_at === null || existing?.deidentified_at === undefined;
    const patch: OrderPatch = {
      ref,
      status: o.status,
      carrier: o.carrier,
      items: JSON.stringify(o.items),
      total: o.total,
      refunded: o.refunded,
      currency: o.currency,
      ...(o.placedAt !== null ? { placed_at: o.placedAt } : {}),
      platform_updated_at: o.platformUpdatedAt,
      source,
      source_id: sourceId,
      ...(linked
        ? {
            tracking_number: o.trackingNumber,
            tracking_url: o.trackingUrl,
            ...(subject !== null ? { subject_id: subject } : {}),
            ...(emailHash !== null ? { email_hash: emailHash } : {}),
          }
        : {}),
    };
    return (await store.update(o.orderId, patch, t)) ? 'updated' : 'stale';
  }

  async function applyPatch(p: PlatformOrderPatch): Promise<'updated' | 'unknown_order'> {
    const existing = await store.get(p.orderId);
    if (!existing) return 'unknown_order';
    const patch: OrderPatch = {};
    const settled: OrderStatus[] = ['cancelled', 'refunded', 'partially_refunded'];
    if (p.shipment) {
      const s = p.shipment;
      if (s.carrier !== null) patch.carrier = s.carrier;
      if (existing.deidentified_at === null) {
        if (s.trackingNumber !== null) patch.tracking_number = s.trackingNumber;
        if (s.trackingUrl !== null) patch.tracking_url = s.trackingUrl;
      }
      if (!settled.includes(existing.status))
        patch.status = s.delivered ? 'delivered' : existing.status === 'delivered' ? 'delivered' : 'shipped';
    }
    if (p.refund !== undefined && p.refund > 0) {
      // Redelivered refunds must not add up twice; the whole order (orders/updated) brings the exact sum.
      const refunded = Math.max(Number(existing.refunded), p.refund);
      patch.refunded = refunded;
      if (existing.status !== 'cancelled')
        patch.status = refunded + 0.005 >= Number(existing.total) ? 'refunded' : 'partially_refunded';
    }
    await store.update(p.orderId, patch, now());
    return 'updated';
  }

  // Subjects this process erased lately: an order event of theirs read before the erasure deleted it (a
  // catch-up page, a group stored just before) must not bring their order back, linked to them again.
  const erasedLately = createExpiringSet(ERASED_MEMORY_MS, now);

  async function fromEvents(events: readonly OrderEvent[]): Promise<number> {
    let created = 0;
    let candidates = events.filter(
      (e) =>
        e.type === 'order_completed' &&
        e.orderId &&
        !erasedLately.has(e.subjectId) &&
        !erasedLately.has(e.userId),
    );
    // Erased by another process: this one's memory cannot know.
    const erasedElsewhere = deps.erased
      ? await deps.erased.among(candidates.flatMap((e) => [e.subjectId, e.userId]))
      : new Set<string>();
    if (erasedElsewhere.size > 0) {
      erasedLately.add(erasedElsewhere);
      candidates = candidates.filter((e) => !erasedLately.has(e.subjectId) && !erasedLately.has(e.userId));
    }
    // Most orders of a catch-up page are already recorded: one read instead of one write attempt each.
    const known =
      candidates.length > 1 ? await store.existingOrderIds(candidates.map((e) => e.orderId!)) : new Set();
    const linked = new Set<string>();
    for (const e of candidates) {
      if (!e.orderId || known.has(e.orderId)) continue;
      const ok = await store.insertIfAbsent({
        order_id: e.orderId,
        ref: normaliseRef(e.orderId),
        subject_id: e.userId ?? e.subjectId,
        email_hash: null,
        // A completed order is a purchase made; webhooks, when the shop has them, bring the later states.
        status: 'paid',
        carrier: null,
        tracking_number: null,
        tracking_url: null,
        items: JSON.stringify(itemsOfEvent(e.props)),
        total: e.revenue ?? 0,
        refunded: 0,
        currency: e.currency ?? 'USD',
        placed_at: e.ts,
        updated_at: now(),
        platform_updated_at: null,
        source: 'events',
        source_id: e.sourceId,
        deidentified_at: null,
      });
      if (ok) {
        created++;
        linked.add(e.userId ?? e.subjectId);
      }
    }
    // An erasure that began after the question above may have deleted before these writes committed:
    // asked again now, it is seen, and what was written for its subjects goes the way the erasure took.
    if (deps.erased && linked.size > 0) {
      const late = await deps.erased.among(linked);
      if (late.size > 0) {
        erasedLately.add(late);
        await store.eraseSubjects([...late], TAX_HOLD_STATUSES, now());
      }
    }
    return created;
  }

  // Stored events are applied in the background, one batch after the other, so ingestion never waits.
  let queue: Promise<void> = Promise.resolve();
  let queued = 0;
  const MAX_QUEUED = 200_000;

  /** Runs `fn` after everything queued, as one step of the queue: `drain()` (erasure) waits for it too. */
  function inQueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(fn);
    queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Makes the order records of stored order events that have none: the events received since the cursor,
   * page by page, each page read and recorded as one step of the queue (so an erasure never runs between
   * a page's read and its writes). The cursor then moves to this run's start less the margin. A failure
   * leaves the cursor where it was, so the next run reads the same events again.
   */
  async function catchUpFromEvents(): Promise<{ scanned: number; created: number }> {
    const read = deps.orderEvents;
    if (read === undefined) return { scanned: 0, created: 0 };
    const startedAt = now();
    const from = (await store.eventCursor()) ?? 0;
    let after: { receivedAt: number; eventId: string } | null = null;
    let scanned = 0;
    let created = 0;
    for (;;) {
      const page = await inQueue(async () => {
        const events = await read(from, after, CATCH_UP_PAGE);
        created += await fromEvents(events);
        return events;
      });
      scanned += page.length;
      const last = page.at(-1);
      if (page.length < CATCH_UP_PAGE || last === undefined) break;
      after = { receivedAt: last.receivedAt, eventId: last.eventId };
    }
    await store.advanceEventCursor(startedAt - (deps.catchUpMarginMs ?? 60 * 60 * 1000));
    if (created > 0) logger.info({ created, scanned }, 'order records made from stored events by catch-up');
    return { scanned, created };
  }

  async function fromEventsWithRetry(events: readonly OrderEvent[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await fromEvents(events);
        return;
      } catch (err) {
        if (attempt >= 3) {
          logger.error({ err, orders: events.length }, 'order records from stored events failed');
          return;
        }
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
  }

  const staffView = (r: OrderRow) => ({
    orderId: r.order_id,
    number: r.ref,
    status: r.status,
    carrier: r.carrier,
    hasTracking: r.tracking_number !== null,
    items: parseItems(r.items),
    total: Number(r.total),
    refunded: Number(r.refunded),
    currency: r.currency,
    placedAt: iso(r.placed_at),
    updatedAt: iso(r.updated_at),
    source: r.source,
    deidentified: r.deidentified_at !== null,
  });

  const shopperView = (r: OrderRow) => ({
    orderId: r.order_id,
    number: r.ref,
    status: r.status,
    carrier: r.carrier,
    trackingNumber: r.tracking_number,
    trackingUrl: r.tracking_url,
    items: parseItems(r.items),
    total: Number(r.total),
    refunded: Number(r.refunded),
    currency: r.currency,
    placedAt: iso(r.placed_at),
    updatedAt: iso(r.updated_at),
  });

  return {
    hashEmail,

    /** A platform webhook delivery (whole order, fulfilment or refund). */
    async fromPlatform(
      platform: OrderPlatform,
      topic: string | null,
      payload: unknown,
      sourceId: string | null,
    ): Promise<'created' | 'updated' | 'stale' | 'unknown_order' | 'ignored'> {
      const parsed = parsePlatformWebhook(platform, topic, payload);
      if (parsed === null) return 'ignored';
      return parsed.kind === 'order' ? applyOrder(parsed, platform, sourceId) : applyPatch(parsed);
    },

    fromEvents,

    catchUpFromEvents,

    /**
     * The keyed hash a guest checkout with this e-mail is stored under: added to a privacy subject whose
     * address is known, so export and erasure find the orders the shopper placed without an account.
     */
    orderEmailKey: (email: string) => hashEmail(email),

    /** Whether any order is stored under this e-mail key (a guest checkout's shopper, for a privacy request). */
    hasOrdersOfEmailKey: async (key: string) => (await store.existingByEmailHash(key)) !== undefined,

    /**
     * Called after ingestion stored a group of events: takes the order events and records them in the
     * background. Returns at once; `drain()` waits for what is queued.
     */
    enqueueEvents(events: readonly OrderEvent[]): void {
      const orders = events.filter((e) => e.type === 'order_completed' && e.orderId !== null);
      if (orders.length === 0) return;
      if (queued + orders.length > MAX_QUEUED) {
        logger.warn({ orders: orders.length }, 'order record queue full; these orders are left to webhooks');
        return;
      }
      queued += orders.length;
      queue = queue.then(async () => {
        await fromEventsWithRetry(orders);
        queued -= orders.length;
      });
    },

    drain: () => queue,

    /**
     * Checks that an order belongs to whoever asks: the e-mail used for it, or a signed-in shopper's
     * pseudonyms. Null when the order is unknown or does not match, the same answer either way.
     */
    async verify(input: {
      orderId: string;
      email: string | null;
      subjectId: string | null;
    }): Promise<VerifiedOrder | null> {
      const raw = input.orderId.trim().slice(0, 128);
      const ref = normaliseRef(raw);
      const hash = input.email !== null ? hashEmail(input.email) : null;
      const subjects = input.subjectId !== null ? await subjectsOf(input.subjectId) : [];
      if (!raw || (hash === null && subjects.length === 0)) return null;
      const rows = await store.byRef(raw, ref);
      const match = rows.find(
        (r) =>
          (hash !== null && r.email_hash !== null && constantTimeEqual(hash, r.email_hash)) ||
          (r.subject_id !== null && subjects.includes(r.subject_id)),
      );
      if (!match) return null;
      return {
        orderId: match.ref,
        status: match.status,
        carrier: match.carrier,
        trackingNumber: match.tracking_number,
        trackingUrl: match.tracking_url,
        cancellable: CANCELLABLE_STATUSES.includes(match.status),
      };
    },

    async forShopper(subjectId: string) {
      return (await store.ofSubjects(await subjectsOf(subjectId))).map(shopperView);
    },

    async list(filter: { status?: OrderStatus | undefined; cursor?: string | undefined; limit: number }) {
      let before: { placedAt: number; orderId: string } | undefined;
      if (filter.cursor) {
        const text = Buffer.from(filter.cursor, 'base64url').toString('utf8');
        const at = text.indexOf(':');
        const placedAt = Number(text.slice(0, at));
        if (at <= 0 || !Number.isSafeInteger(placedAt)) throw badCursor();
        before = { placedAt, orderId: text.slice(at + 1) };
      }
      const rows = await store.list(
        { status: filter.status, ...(before ? { before } : {}) },
        filter.limit + 1,
      );
      const page = rows.slice(0, filter.limit);
      const last = page.at(-1);
      return {
        orders: page.map(staffView),
        nextCursor:
          rows.length > filter.limit && last
            ? Buffer.from(`${Number(last.placed_at)}:${last.order_id}`).toString('base64url')
            : null,
      };
    },

    async get(orderId: string) {
      const row = await store.get(orderId);
      if (!row) throw orderNotFound();
      return staffView(row);
    },

    async exportRows(subjectIds: readonly string[]) {
      return (await store.ofSubjects(subjectIds)).map(shopperView);
    },

    /** Erasure: deletes what no law requires and de-identifies the tax records; says what it kept, until when. */
    async erase(subjectIds: readonly string[]) {
      erasedLately.add(subjectIds);
      const out = await store.eraseSubjects(subjectIds, TAX_HOLD_STATUSES, now());
      const days = deps.retentionDays ? await deps.retentionDays() : DEFAULT_ORDER_RETENTION_DAYS;
      return {
        deleted: out.deleted + out.deidentified,
        ...(out.deidentified > 0
          ? {
              legalHolds: [
                {
                  holder: 'orders',
                  what: `${out.deidentified} order record(s): order number, items, amounts, currency and dates, no longer linked to you (no customer pseudonym, e-mail hash or tracking number)`,
                  why: 'Tax law requires the shop to keep its sales records.',
                  until: out.newestKept === null ? null : out.newestKept + days * DAY,
                },
              ],
            }
          : {}),
      };
    },

    purgeOlderThan: (beforeTs: number) => store.purgeOlderThan(beforeTs),
  };
}

export type OrdersService = ReturnType<typeof createOrdersService>;
