/**
 * Minimisation: only what an event type needs survives — per-type allow-lists of properties (Segment
 * spec names and camelCase variants), typed and bounded. Unknown properties are dropped; query strings
 * and fragments are cut from paths and referrers (they often carry e-mail addresses or tokens).
 */
import type { EventType } from './event-types.ts';
import type { Gated } from './consent-gate.step.ts';
import { ok, type StepResult } from './step.ts';
import type { ValidEvent } from './validate-event.step.ts';

export type PropValue = string | number | boolean | PropValue[] | { [k: string]: PropValue };

export type MinimalEvent = {
  messageId: string | null;
  type: EventType;
  purpose: Gated<ValidEvent>['purpose'];
  consentId: string | null;
  ts: number;
  receivedAt: number;
  userId: string | null;
  anonymousId: string | null;
  previousId: string | null;
  sessionId: string | null;
  path: string | null;
  referrer: string | null;
  productId: string | null;
  category: string | null;
  query: string | null;
  orderId: string | null;
  revenue: number | null;
  currency: string | null;
  quantity: number | null;
  utmSource: string | null;
  /** Only for device-class enrichment; never stored. */
  userAgent: string | null;
  props: Record<string, PropValue>;
};

type Reader = (props: Readonly<Record<string, unknown>>, keys: readonly string[]) => PropValue | null;

const own = (o: Readonly<Record<string, unknown>>, keys: readonly string[]): unknown => {
  for (const k of keys) if (Object.hasOwn(o, k) && o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
};

const text =
  (max: number): Reader =>
  (o, keys) => {
    const v = own(o, keys);
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    return typeof v === 'string' && v.length > 0 && v.length <= max ? v : null;
  };
const num: Reader = (o, keys) => {
  const v = own(o, keys);
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && Math.abs(n) < 1e15 ? n : null;
};
const int =
  (min: number, max: number): Reader =>
  (o, keys) => {
    const n = num(o, keys);
    return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max ? n : null;
  };
const currencyCode: Reader = (o, keys) => {
  const v = own(o, keys);
  return typeof v === 'string' && /^[A-Za-z]{3}$/.test(v) ? v.toUpperCase() : null;
};

const ID = text(128);
const SHORT = text(256);
const LONG = text(2000);

/** Items of an order or checkout: product, quantity, price, nothing else. */
function items(o: Readonly<Record<string, unknown>>): PropValue | null {
  const v = own(o, ['products', 'items']);
  if (!Array.isArray(v)) return null;
  const out: PropValue[] = [];
  for (const item of v.slice(0, 100)) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) continue;
    const i = item as Record<string, unknown>;
    const entry: Record<string, PropValue> = {};
    const productId = ID(i, ['product_id', 'productId', 'id', 'sku']);
    if (productId === null) continue;
    entry.productId = productId;
    const quantity = int(0, 1_000_000)(i, ['quantity']);
    if (quantity !== null) entry.quantity = quantity;
    const price = num(i, ['price']);
    if (price !== null) entry.price = price;
    const category = SHORT(i, ['category']);
    if (category !== null) entry.category = category;
    out.push(entry);
  }
  return out;
}

/** Extra properties kept in `props`, per type: output name → reader and accepted input names. */
const PROPS: Partial<Record<EventType, Record<string, [Reader, readonly string[]]>>> = {
  page_view: { title: [SHORT, ['title']], name: [SHORT, ['name']] },
  product_view: {
    sku: [ID, ['sku']],
    brand: [SHORT, ['brand']],
    variant: [SHORT, ['variant']],
    price: [num, ['price']],
    name: [SHORT, ['name']],
    position: [int(0, 100_000), ['position']],
  },
  product_list_view: { listId: [ID, ['list_id', 'listId']] },
  search: { resultsCount: [int(0, 1e9), ['results_count', 'resultsCount', 'results']] },
  search_click: { position: [int(0, 100_000), ['position']] },
  add_to_cart: { price: [num, ['price']], cartId: [ID, ['cart_id', 'cartId']], sku: [ID, ['sku']] },
  remove_from_cart: { price: [num, ['price']], cartId: [ID, ['cart_id', 'cartId']], sku: [ID, ['sku']] },
  checkout_started: { shipping: [num, ['shipping']], tax: [num, ['tax']], discount: [num, ['discount']] },
  order_completed: {
    shipping: [num, ['shipping']],
    tax: [num, ['tax']],
    discount: [num, ['discount']],
    coupon: [ID, ['coupon']],
  },
  review_submitted: {
    rating: [int(1, 5), ['rating']],
    text: [LONG, ['review_body', 'reviewBody', 'text', 'body']],
  },
  product_shared: { shareVia: [SHORT, ['share_via', 'shareVia']] },
  page_leave: {
    engagedMs: [int(0, 86_400_000), ['engaged_ms', 'engagedMs', 'engaged_time']],
    scrollDepth: [int(0, 100), ['scroll_depth', 'scrollDepth']],
  },
};

/**
 * Traits kept on identify: preferences that are not direct identifiers. Names, e-mail, phone and
 * address never come through here (they go to the PII vault, see pseudonymise-event.step.ts).
 */
export const TRAIT_ALLOW_LIST: Record<string, [Reader, readonly string[]]> = {
  language: [text(35), ['language']],
  locale: [text(35), ['locale']],
  currency: [currencyCode, ['currency']],
  plan: [SHORT, ['plan']],
  loyaltyTier: [SHORT, ['loyalty_tier', 'loyaltyTier']],
};

const TYPES_WITH_PRODUCT: ReadonlySet<EventType> = new Set([
  'product_view',
  'search_click',
  'add_to_cart',
  'remove_from_cart',
  'review_submitted',
  'product_shared',
]);
const TYPES_WITH_ORDER: ReadonlySet<EventType> = new Set(['checkout_started', 'order_completed']);

/** A URL or path without query string or fragment; a full URL keeps origin and path. */
export function stripQuery(value: string | null): string | null {
  if (value === null) return null;
  const cut = value.split(/[?#]/, 1)[0] ?? '';
  return cut.length > 0 && cut.length <= 2048 ? cut : null;
}

export function minimiseEvent(event: Gated<ValidEvent>): StepResult<MinimalEvent> {
  const p = event.properties;
  const t = event.type;
  const props: Record<string, PropValue> = {};
  const spec = t === 'identify' ? TRAIT_ALLOW_LIST : (PROPS[t] ?? {});
  const source = t === 'identify' ? event.traits : p;
  for (const [name, [read, keys]] of Object.entries(spec)) {
    const v = read(source, keys);
    if (v !== null) props[name] = v;
  }
  if (TYPES_WITH_ORDER.has(t)) {
    const list = items(p);
    if (list !== null) props.items = list;
  }

  const withOrder = TYPES_WITH_ORDER.has(t);
  const quantity =
    t === 'add_to_cart' || t === 'remove_from_cart' ? int(0, 1_000_000)(p, ['quantity']) : null;
  return ok({
    messageId: event.messageId,
    type: t,
    purpose: event.purpose,
    consentId: event.consentId,
    ts: event.ts,
    receivedAt: event.receivedAt,
    userId: event.userId,
    anonymousId: event.anonymousId,
    previousId: event.previousId,
    sessionId: event.context.sessionId,
    path: stripQuery(event.context.path),
    referrer: stripQuery(event.context.referrer),
    productId: TYPES_WITH_PRODUCT.has(t)
      ? (ID(p, ['product_id', 'productId', 'sku']) as string | null)
      : null,
    category: t === 'identify' || t === 'alias' ? null : (SHORT(p, ['category']) as string | null),
    query: t === 'search' || t === 'search_click' ? (LONG(p, ['query', 'q']) as string | null) : null,
    orderId: withOrder ? (ID(p, ['order_id', 'orderId', 'checkout_id']) as string | null) : null,
    revenue: withOrder ? (num(p, ['revenue', 'total', 'value']) as number | null) : null,
    currency: currencyCode(p, ['currency']) as string | null,
    quantity: quantity as number | null,
    utmSource:
      event.context.utmSource !== null && event.context.utmSource.length <= 256
        ? event.context.utmSource
        : null,
    userAgent: event.context.userAgent,
    props,
  });
}
