/**
 * What Candor remembers between orders, on the state store: reading a `HistorySnapshot` before scoring (three
 * indexed queries) and recording the attempt after it. Every key is an HMAC pseudonym from the kernel's
 * pseudonymizer, so no e-mail address, IP, card fingerprint or street address is ever stored.
 */
import type { Kysely } from 'kysely';
import type { Pseudonymizer } from '../../kernel/crypto.ts';
import {
  cardKey,
  emptyHistory,
  mainCategory,
  normaliseAddress,
  normaliseEmail,
  WINDOWS,
  type CatalogPrice,
  type HistorySnapshot,
  type OrderInput,
  type VelocityKind,
} from './features.ts';
import { bumpEntity, type EntityRow, type FraudTables } from './store.ts';

export type OrderKeys = {
  /** Pseudonym of the shop's customer id (the subject id the rest of Candor uses), when known. */
  subjectId: string | null;
  /** Pseudonym of the device id. */
  deviceSubject: string | null;
  velocity: Partial<Record<VelocityKind, string>>;
  customer: string | null;
  device: string | null;
  custShip: string | null;
  category: string | null;
  coupons: string[];
};

/** The namespaces the ingest pipeline uses for customer and device ids, so erasure finds fraud rows too. */
const SUBJECT_NS = { user: 'user', device: 'device' } as const;

export function keysOf(
  order: OrderInput,
  pseudonymize: Pseudonymizer,
  catalog: ReadonlyMap<string, CatalogPrice>,
): OrderKeys {
  const h = (ns: string, v: string) => pseudonymize(`fraud.${ns}`, v);
  const subjectId = order.customer?.id ? pseudonymize(SUBJECT_NS.user, order.customer.id) : null;
  const deviceSubject = order.deviceId ? pseudonymize(SUBJECT_NS.device, order.deviceId) : null;
  const card = cardKey(order.payment);
  const email = order.customer?.email ? normaliseEmail(order.customer.email) : null;
  const ship = order.shippingAddress ? normaliseAddress(order.shippingAddress) : null;
  const velocity: Partial<Record<VelocityKind, string>> = {};
  if (card) velocity.card = h('card', card);
  if (email) velocity.email = h('email', email);
  if (order.deviceId) velocity.device = h('device', order.deviceId);
  if (order.ip) velocity.ip = h('ip', order.ip.trim().toLowerCase());
  if (ship) velocity.ship = h('ship', ship);
  // Guests are recognised by e-mail for history and coupon reuse.
  const who = subjectId ? `s:${subjectId}` : email ? `e:${velocity.email}` : null;
  const category = mainCategory(order, catalog);
  return {
    subjectId,
    deviceSubject,
    velocity,
    customer: who ? h('entity', `customer:${who}`) : null,
    device: order.deviceId ? h('entity', `device:${who ?? ''}:${order.deviceId}`) : null,
    custShip: who && ship ? h('entity', `ship:${who}:${ship}`) : null,
    category: category ? h('entity', `category:${category.toLowerCase()}`) : null,
    coupons: who
      ? [...new Set((order.coupons ?? []).map((c) => c.trim().toUpperCase()))].map((c) =>
          h('entity', `coupon:${who}:${c}`),
        )
      : [],
  };
}

const num = (v: number | string | null | undefined) => (v === null || v === undefined ? 0 : Number(v));

function statsOf(row: EntityRow | undefined) {
  if (!row) return null;
  const n = num(row.orders);
  if (n === 0) return { count: 0, mean: 0, std: 0 };
  const mean = Number(row.amount_sum) / n;
  const variance = Math.max(0, Number(row.amount_sumsq) / n - mean * mean);
  return { count: n, mean, std: Math.sqrt(variance) };
}

export async function readHistory(
  db: Kysely<FraudTables>,
  keys: OrderKeys,
  orderId: string,
  now: number,
): Promise<HistorySnapshot> {
  const history = emptyHistory();
  const vKeys = Object.values(keys.velocity);
  if (vKeys.length > 0) {
    const rows = await db
      .selectFrom('fraud_velocity')
      .select(['kind', 'ts', 'order_id', 'declined', 'amount', 'key_hash'])
      .where('key_hash', 'in', vKeys)
      .where('ts', '>=', now - WINDOWS['7d'])
      .where('ts', '<=', now)
      .where('order_id', '<>', orderId)
      .execute();
    const attemptKeys = new Set([keys.velocity.card, keys.velocity.device, keys.velocity.ip].filter(Boolean));
    const recent = new Map<string, { ts: number; declined: boolean; amount: number }>();
    for (const r of rows) {
      const kind = r.kind as VelocityKind;
      const age = now - Number(r.ts);
      const v = history.velocity[kind];
      if (!v) continue;
      if (age <= WINDOWS['10m']) v['10m']++;
      if (age <= WINDOWS['1h']) v['1h']++;
      if (age <= WINDOWS['24h']) v['24h']++;
      v['7d']++;
      if (age <= WINDOWS['24h'] && attemptKeys.has(r.key_hash) && !recent.has(r.order_id)) {
        recent.set(r.order_id, {
          ts: Number(r.ts),
          declined: Number(r.declined) === 1,
          amount: Number(r.amount),
        });
      }
    }
    history.recentAttempts = [...recent.values()].sort((a, b) => b.ts - a.ts).slice(0, 20);
  }
  const eKeys = [
    keys.customer,
    keys.device,
    keys.custShip,
    keys.category,
    keys.velocity.ship,
    ...keys.coupons,
  ].filter((k): k is string => k !== null && k !== undefined);
  if (eKeys.length > 0) {
    const rows = await db.selectFrom('fraud_entities').selectAll().where('key_hash', 'in', eKeys).execute();
    const byKey = new Map(rows.map((r) => [r.key_hash, r]));
    const c = keys.customer ? byKey.get(keys.customer) : undefined;
    if (c) {
      history.customer = {
        firstSeen: num(c.first_seen),
        orders: num(c.orders),
        amount: statsOf(c)!,
        purchaseAmount: num(c.purchase_amount),
        refunds: num(c.refunds),
        refundAmount: num(c.refund_amount),
        returns: num(c.returns),
      };
    }
    const cat = keys.category ? byKey.get(keys.category) : undefined;
    history.category = statsOf(cat);
    history.deviceSeen = keys.device !== null && byKey.has(keys.device);
    history.shippingAddressSeen = keys.custShip !== null && byKey.has(keys.custShip);
    const addr = keys.velocity.ship ? byKey.get(keys.velocity.ship) : undefined;
    history.notReceivedClaims = num(addr?.claims);
    history.reusedCoupons = keys.coupons.filter((k) => num(byKey.get(k)?.orders) > 0).length;
  }
  return history;
}

/**
 * Records the attempt: a velocity row per key (replacing the rows of an earlier score of the same order, so a
 * re-score after authorisation updates the declined flag), and — when `countAggregates`, i.e. once per order — the
 * running aggregates.
 */
export async function recordAttempt(
  db: Kysely<FraudTables>,
  keys: OrderKeys,
  order: OrderInput,
  now: number,
  countAggregates: boolean,
): Promise<void> {
  const subject = keys.subjectId ?? keys.deviceSubject;
  await db.deleteFrom('fraud_velocity').where('order_id', '=', order.orderId).execute();
  const declined = order.payment?.authResult === 'declined' ? 1 : 0;
  const rows = Object.entries(keys.velocity).map(([kind, key_hash]) => ({
    key_hash,
    kind,
    order_id: order.orderId,
    subject_id: subject,
    ts: now,
    amount: order.amount,
    declined,
  }));
  if (rows.length > 0) await db.insertInto('fraud_velocity').values(rows).execute();
  if (!countAggregates || declined) return;
  const at = { ts: now, subject_id: subject };
  if (keys.customer)
    await bumpEntity(db, {
      ...at,
      key_hash: keys.customer,
      kind: 'customer',
      orders: 1,
      amount: order.amount,
    });
  if (keys.device) await bumpEntity(db, { ...at, key_hash: keys.device, kind: 'device', orders: 1 });
  if (keys.custShip)
    await bumpEntity(db, { ...at, key_hash: keys.custShip, kind: 'customer_address', orders: 1 });
  if (keys.velocity.ship)
    await bumpEntity(db, { ...at, key_hash: keys.velocity.ship, kind: 'address', orders: 1 });
  // Category history is shop-level, not about a person.
  if (keys.category)
    await bumpEntity(db, {
      ts: now,
      subject_id: null,
      key_hash: keys.category,
      kind: 'category',
      orders: 1,
      amount: order.amount,
    });
  for (const k of keys.coupons) await bumpEntity(db, { ...at, key_hash: k, kind: 'coupon_use', orders: 1 });
}
