/**
 * Shop-platform webhook payloads → order updates. Shopify sends whole orders on `orders/*` topics and
 * sub-resources on `fulfillments/*` and `refunds/*`; WooCommerce sends whole orders on `order.*` topics
 * (tracking from the Shipment Tracking extension's meta data). Only order facts are read; the e-mail is
 * handed on in process to be hashed at once, and names, addresses and phone numbers are never read.
 */
import type { OrderItem, OrderStatus } from './store.ts';

export const ORDER_PLATFORMS = ['shopify', 'woocommerce'] as const;
export type OrderPlatform = (typeof ORDER_PLATFORMS)[number];

/** A whole order as the platform last described it. */
export type PlatformOrder = {
  kind: 'order';
  orderId: string;
  number: string | null;
  /** The shop's customer id (pseudonymised before storing), null for a guest. */
  customerId: string | null;
  /** Plain text only in memory: the orders service stores its keyed hash. */
  email: string | null;
  status: OrderStatus;
  carrier: string | null;
  trackingNumber: string | null;
  trackingUrl: string | null;
  items: OrderItem[];
  total: number;
  refunded: number;
  currency: string;
  placedAt: number | null;
  platformUpdatedAt: number | null;
};

/** A change to an order told on its own (a Shopify fulfilment or refund). */
export type PlatformOrderPatch = {
  kind: 'patch';
  orderId: string;
  shipment?: {
    carrier: string | null;
    trackingNumber: string | null;
    trackingUrl: string | null;
    delivered: boolean;
  };
  /** Amount refunded by this refund (major units). */
  refund?: number;
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
const str = (v: unknown): string | null =>
  typeof v === 'string' && v.trim() !== ''
    ? v.trim().slice(0, 256)
    : typeof v === 'number' && Number.isFinite(v)
      ? String(v)
      : null;
const num = (v: unknown): number | null => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
};
const time = (v: unknown, assumeUtc = false): number | null => {
  const s = str(v);
  if (s === null) return null;
  const t = Date.parse(assumeUtc && !/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? `${s}Z` : s);
  return Number.isFinite(t) ? t : null;
};

/** The order number as a shopper types it: no `#`, no spaces, upper case. */
export function normaliseRef(value: string): string {
  return value.trim().replace(/^#+/, '').replace(/\s+/g, '').toUpperCase().slice(0, 128);
}

/** The e-mail form that is hashed: trimmed and lower-cased (what a person would call the same address). */
export function normaliseEmail(value: string): string {
  return value.trim().toLowerCase();
}

function itemsOf(payload: Obj): OrderItem[] {
  return arr(payload.line_items)
    .slice(0, 500)
    .map((i) => ({
      productId: str(i.product_id) ?? str(i.sku) ?? 'unknown',
      quantity: num(i.quantity) ?? 1,
      price: num(i.price) ?? 0,
    }));
}

/**
 * The order id the ingest webhook gives the same order (`order_completed.order_id`), so the record fed
 * by the webhook and the one fed by the stored event are one row.
 */
export function platformOrderId(platform: OrderPlatform, payload: Obj): string | null {
  const id = str(payload.id);
  if (id === null) return null;
  return platform === 'woocommerce' && str(payload.number) !== null ? `wc-${id}` : id;
}

function shopifyOrder(payload: Obj): PlatformOrder | null {
  const orderId = platformOrderId('shopify', payload);
  if (orderId === null) return null;
  const financial = str(payload.financial_status);
  const fulfillments = arr(payload.fulfillments).filter((f) => str(f.status) !== 'cancelled');
  const tracked = [...fulfillments].reverse().find((f) => trackingOf(f).trackingNumber !== null);
  const delivered = fulfillments.some((f) => str(f.shipment_status) === 'delivered');
  const refunded = arr(payload.refunds).reduce((s, r) => s + refundAmount(r), 0);
  let status: OrderStatus;
  if (financial === 'refunded') status = 'refunded';
  else if (str(payload.cancelled_at) !== null || financial === 'voided') status = 'cancelled';
  else if (financial === 'partially_refunded' || refunded > 0) status = 'partially_refunded';
  else if (delivered) status = 'delivered';
  else if (fulfillments.length > 0 || str(payload.fulfillment_status) !== null) status = 'shipped';
  else if (financial === 'paid' || financial === 'partially_paid') status = 'paid';
  else status = 'placed';
  const customer = isObj(payload.customer) ? payload.customer : null;
  const track = tracked ? trackingOf(tracked) : { carrier: null, trackingNumber: null, trackingUrl: null };
  return {
    kind: 'order',
    orderId,
    number: str(payload.order_number) ?? str(payload.name),
    customerId: customer ? str(customer.id) : null,
    email: str(payload.email) ?? str(payload.contact_email) ?? (customer ? str(customer.email) : null),
    status,
    ...track,
    items: itemsOf(payload),
    total: num(payload.total_price) ?? 0,
    refunded,
    currency: (str(payload.currency) ?? 'USD').toUpperCase().slice(0, 3),
    placedAt: time(payload.processed_at) ?? time(payload.created_at),
    platformUpdatedAt: time(payload.updated_at),
  };
}

function trackingOf(f: Obj): Pick<PlatformOrder, 'carrier' | 'trackingNumber' | 'trackingUrl'> {
  const numbers = Array.isArray(f.tracking_numbers) ? f.tracking_numbers : [];
  const urls = Array.isArray(f.tracking_urls) ? f.tracking_urls : [];
  const url = str(f.tracking_url) ?? str(urls[0]);
  return {
    carrier: str(f.tracking_company),
    trackingNumber: str(f.tracking_number) ?? str(numbers[0]),
    // Only web links: a shopper is sent there.
    trackingUrl: url !== null && /^https?:\/\//i.test(url) ? url : null,
  };
}

/** A Shopify refund's money: successful refund transactions. */
function refundAmount(refund: Obj): number {
  return arr(refund.transactions)
    .filter((t) => str(t.kind) === 'refund' && (str(t.status) ?? 'success') === 'success')
    .reduce((s, t) => s + Math.abs(num(t.amount) ?? 0), 0);
}

function wooOrder(payload: Obj): PlatformOrder | null {
  const orderId = platformOrderId('woocommerce', payload);
  if (orderId === null) return null;
  const wooStatus = str(payload.status) ?? 'pending';
  const refunded = arr(payload.refunds).reduce((s, r) => s + Math.abs(num(r.total) ?? 0), 0);
  const tracking = arr(payload.meta_data)
    .filter((m) => m.key === '_wc_shipment_tracking_items')
    .flatMap((m) => arr(m.value));
  const last = tracking.at(-1);
  let status: OrderStatus;
  if (wooStatus === 'refunded') status = 'refunded';
  else if (wooStatus === 'cancelled' || wooStatus === 'failed') status = 'cancelled';
  else if (refunded > 0) status = 'partially_refunded';
  else if (wooStatus === 'completed') status = 'shipped';
  else if (wooStatus === 'processing') status = tracking.length > 0 ? 'shipped' : 'paid';
  else status = 'placed';
  const customer = num(payload.customer_id);
  const billing = isObj(payload.billing) ? payload.billing : null;
  const link = last ? str(last.custom_tracking_link) : null;
  return {
    kind: 'order',
    orderId,
    number: str(payload.number),
    // customer_id 0 is a guest.
    customerId: customer !== null && customer > 0 ? String(customer) : null,
    email: billing ? str(billing.email) : null,
    status,
    carrier: last ? (str(last.tracking_provider) ?? str(last.custom_tracking_provider)) : null,
    trackingNumber: last ? str(last.tracking_number) : null,
    trackingUrl: link !== null && /^https?:\/\//i.test(link) ? link : null,
    items: itemsOf(payload),
    total: num(payload.total) ?? 0,
    refunded,
    currency: (str(payload.currency) ?? 'USD').toUpperCase().slice(0, 3),
    // WooCommerce's *_gmt fields carry no zone: they are UTC.
    placedAt: time(payload.date_created_gmt, true) ?? time(payload.date_created),
    platformUpdatedAt: time(payload.date_modified_gmt, true) ?? time(payload.date_modified),
  };
}

/**
 * One webhook delivery → what it says about an order, or null when it says nothing an order record keeps
 * (a deleted order, a WooCommerce delivery test, an unknown topic). Without a topic header the body is
 * read as a whole order, as the order webhook always did.
 */
export function parsePlatformWebhook(
  platform: OrderPlatform,
  topic: string | null,
  payload: unknown,
): PlatformOrder | PlatformOrderPatch | null {
  if (!isObj(payload)) return null;
  const t = (topic ?? '').trim().toLowerCase();
  if (platform === 'shopify') {
    if (t.startsWith('fulfillments/')) {
      const orderId = str(payload.order_id);
      if (orderId === null || str(payload.status) === 'cancelled') return null;
      return {
        kind: 'patch',
        orderId,
        shipment: { ...trackingOf(payload), delivered: str(payload.shipment_status) === 'delivered' },
      };
    }
    if (t.startsWith('refunds/')) {
      const orderId = str(payload.order_id);
      return orderId === null ? null : { kind: 'patch', orderId, refund: refundAmount(payload) };
    }
    if (t !== '' && (!t.startsWith('orders/') || t === 'orders/delete')) return null;
    return shopifyOrder(payload);
  }
  if (t !== '' && (!t.startsWith('order.') || t === 'order.deleted')) return null;
  return wooOrder(payload);
}

/** Topics whose body is a whole new or changed order (the ones the ingest webhook turns into an event). */
export function isWholeOrderTopic(platform: OrderPlatform, topic: string | null): boolean {
  const t = (topic ?? '').trim().toLowerCase();
  if (t === '') return true;
  return platform === 'shopify'
    ? t.startsWith('orders/') && t !== 'orders/delete'
    : t.startsWith('order.') && t !== 'order.deleted';
}
