/**
 * Feature extraction: pure and explainable. Given an order, what Candor already knows about the card, e-mail,
 * device, IP, shipping address and customer (a `HistorySnapshot`, read from the store), and the catalogue's
 * prices, it returns named feature values (for rules and the model) and a plain-language reason for each one.
 * No I/O here, so scoring, the rules dry-run and `candor evaluate fraud` share exactly this code.
 */
import { emailDomain, isDisposableDomain } from './disposable-domains.ts';

export type Address = {
  line1?: string | undefined;
  line2?: string | undefined;
  city?: string | undefined;
  postalCode?: string | undefined;
  country?: string | undefined;
};

export type OrderItem = {
  productId: string;
  /** Quantity as the client sent it (negative and zero quantities are a signal, not an error). */
  quantity: number;
  /** Unit price the client sent, in minor units. */
  unitPrice: number;
  category?: string | undefined;
};

export type PaymentMeta = {
  /** The payment provider's card fingerprint (stable per card, not the number). */
  fingerprint?: string | undefined;
  bin?: string | undefined;
  binCountry?: string | undefined;
  last4?: string | undefined;
  threeDs?: 'authenticated' | 'attempted' | 'failed' | 'not_enrolled' | 'unavailable' | undefined;
  avs?: 'match' | 'partial' | 'mismatch' | 'unavailable' | undefined;
  cvv?: 'match' | 'mismatch' | 'unavailable' | undefined;
  /** The authorisation outcome when scoring after the attempt (declines feed card-testing detection). */
  authResult?: 'approved' | 'declined' | undefined;
};

/** An order at checkout, as the shop's backend sends it. Amounts are integers in minor units. */
export type OrderInput = {
  orderId: string;
  /** ISO 8601 time of the attempt; the server's clock when absent. */
  at?: string | undefined;
  amount: number;
  currency: string;
  items: OrderItem[];
  discount?: number | undefined;
  shippingCost?: number | undefined;
  coupons?: string[] | undefined;
  customer?:
    | { id?: string | undefined; email?: string | undefined; accountCreatedAt?: string | undefined }
    | undefined;
  deviceId?: string | undefined;
  ip?: string | undefined;
  /** Country of the IP address (ISO 3166-1 alpha-2), as the shop's edge resolved it. */
  ipCountry?: string | undefined;
  billingAddress?: Address | undefined;
  shippingAddress?: Address | undefined;
  payment?: PaymentMeta | undefined;
};

export const VELOCITY_KINDS = ['card', 'email', 'device', 'ip', 'ship'] as const;
export type VelocityKind = (typeof VELOCITY_KINDS)[number];

export const WINDOWS = { '10m': 600_000, '1h': 3_600_000, '24h': 86_400_000, '7d': 604_800_000 } as const;
export type WindowName = keyof typeof WINDOWS;
export const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];

export type Stats = { count: number; mean: number; std: number };

/** What the store knew before this order (the order itself excluded). */
export type HistorySnapshot = {
  /** Earlier attempts per key and window. Kinds the order has no key for are 0. */
  velocity: Record<VelocityKind, Record<WindowName, number>>;
  /** Earlier attempts on the same card, device or IP in the last 24 h, newest first. */
  recentAttempts: { declined: boolean; amount: number }[];
  customer: {
    firstSeen: number | null;
    orders: number;
    amount: Stats;
    purchaseAmount: number;
    refunds: number;
    refundAmount: number;
    returns: number;
  } | null;
  /** Order amounts of the order's main category. */
  category: Stats | null;
  /** Whether this device was seen before (for this customer when known, else at all). */
  deviceSeen: boolean;
  /** Whether the customer shipped to this address before. */
  shippingAddressSeen: boolean;
  /** "Not received" claims made for the shipping address. */
  notReceivedClaims: number;
  /** Coupons of this order the same customer (or e-mail) already used. */
  reusedCoupons: number;
};

export type CatalogPrice = { price: number; currency: string; category: string | null };

export type FeatureValue = number | string | boolean;

export type Feature = {
  name: string;
  value: FeatureValue;
  /** Plain language, safe to show a reviewer: no raw identifiers. */
  reason: string;
  /** True when the value is a risk signal on its own. */
  risky: boolean;
};

export type FeatureSet = { values: Record<string, FeatureValue>; features: Feature[] };

export const HIGH_RISK_CATEGORIES: ReadonlySet<string> = new Set([
  'gift-cards',
  'gift_cards',
  'giftcards',
  'gift cards',
  'electronics',
  'phones',
  'mobile-phones',
  'laptops',
  'consoles',
  'gaming',
  'jewelry',
  'jewellery',
  'watches',
  'luxury',
  'crypto',
  'vouchers',
  'prepaid-cards',
]);

/** Small authorisations typical of card testing: below this many minor units. */
export const SMALL_AUTH_MINOR = 500;

const DAY = 86_400_000;

export function emptyHistory(): HistorySnapshot {
  const zero = (): Record<WindowName, number> => ({ '10m': 0, '1h': 0, '24h': 0, '7d': 0 });
  return {
    velocity: { card: zero(), email: zero(), device: zero(), ip: zero(), ship: zero() },
    recentAttempts: [],
    customer: null,
    category: null,
    deviceSeen: false,
    shippingAddressSeen: false,
    notReceivedClaims: 0,
    reusedCoupons: 0,
  };
}

/** Normalised forms the store hashes: one card, e-mail or address written differently is still one key. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function normaliseAddress(a: Address): string {
  const part = (s: string | undefined) => (s ?? '').trim().toLowerCase().replace(/\s+/g, ' ');
  return [
    part(a.line1),
    part(a.line2),
    part(a.city),
    part(a.postalCode).replace(/ /g, ''),
    part(a.country),
  ].join('|');
}

export function cardKey(p: PaymentMeta | undefined): string | null {
  if (!p) return null;
  if (p.fingerprint) return `fp:${p.fingerprint}`;
  if (p.bin && p.last4) return `bl:${p.bin}:${p.last4}`;
  return null;
}

/** The category an order is "about": the one with the largest share of the client's amount. */
export function mainCategory(order: OrderInput, catalog: ReadonlyMap<string, CatalogPrice>): string | null {
  const byCat = new Map<string, number>();
  for (const item of order.items) {
    const cat = catalog.get(item.productId)?.category ?? item.category ?? null;
    if (!cat) continue;
    byCat.set(cat, (byCat.get(cat) ?? 0) + Math.abs(item.unitPrice * item.quantity));
  }
  let best: string | null = null;
  let bestAmount = -1;
  for (const [cat, amount] of byCat) {
    if (amount > bestAmount) [best, bestAmount] = [cat, amount];
  }
  return best;
}

function isHighRisk(category: string | null | undefined): boolean {
  if (!category) return false;
  const c = category.toLowerCase();
  // Category paths (`root/electronics/phones`) count when any segment is high-risk.
  return c.split('/').some((seg) => HIGH_RISK_CATEGORIES.has(seg));
}

const upper = (s: string | undefined) => (s ?? '').trim().toUpperCase();

function zScore(x: number, s: Stats | null): number {
  if (!s || s.count < 3) return 0;
  // A floor on the spread keeps one repeated amount from making every change look extreme.
  const std = Math.max(s.std, s.mean * 0.1, 1);
  return Math.round(((x - s.mean) / std) * 100) / 100;
}

function consecutive<T>(xs: readonly T[], pred: (x: T) => boolean): number {
  let n = 0;
  for (const x of xs) {
    if (!pred(x)) break;
    n++;
  }
  return n;
}

const money = (minor: number) => (minor / 100).toFixed(2);

/** Computes every feature. `now` is epoch ms of the attempt. */
export function extractFeatures(
  order: OrderInput,
  history: HistorySnapshot,
  catalog: ReadonlyMap<string, CatalogPrice>,
  now: number,
): FeatureSet {
  const features: Feature[] = [];
  const add = (name: string, value: FeatureValue, risky: boolean, reason: string) => {
    features.push({ name, value, reason, risky });
  };

  // Amount.
  add('amount', order.amount, false, `Order amount is ${money(order.amount)} ${order.currency}.`);
  add('currency', upper(order.currency), false, `Currency is ${upper(order.currency)}.`);
  const itemsCount = order.items.length;
  const quantityTotal = order.items.reduce((s, i) => s + i.quantity, 0);
  add('items_count', itemsCount, false, `${itemsCount} line items.`);
  add('quantity_total', quantityTotal, false, `${quantityTotal} units in total.`);

  // Velocity per key and window.
  const limits: Record<WindowName, number> = { '10m': 3, '1h': 5, '24h': 10, '7d': 25 };
  const label: Record<VelocityKind, string> = {
    card: 'this card',
    email: 'this e-mail address',
    device: 'this device',
    ip: 'this IP address',
    ship: 'this shipping address',
  };
  for (const kind of ['card', 'email', 'device', 'ip', 'ship'] as const) {
    for (const w of WINDOW_NAMES) {
      const n = history.velocity[kind][w];
      const risky = n >= limits[w];
      add(`velocity_${kind}_${w}`, n, risky, `${n} earlier attempts with ${label[kind]} in the last ${w}.`);
    }
  }

  // Card testing: declines and small authorisations in a row (this attempt included).
  const current = { declined: order.payment?.authResult === 'declined', amount: order.amount };
  const attempts = [current, ...history.recentAttempts];
  const declines = consecutive(attempts, (a) => a.declined);
  const smalls = consecutive(attempts, (a) => a.amount > 0 && a.amount < SMALL_AUTH_MINOR);
  add(
    'declines_in_row',
    declines,
    declines >= 3,
    `${declines} declined attempts in a row on this card, device or IP.`,
  );
  add(
    'small_auths_in_row',
    smalls,
    smalls >= 3,
    `${smalls} small (under ${money(SMALL_AUTH_MINOR)}) attempts in a row on this card, device or IP.`,
  );
  const testing = declines >= 3 || smalls >= 3;
  add(
    'card_testing',
    testing,
    testing,
    testing
      ? 'Pattern of card testing: repeated declines or small authorisations.'
      : 'No card-testing pattern.',
  );

  // Countries.
  const bin = upper(order.payment?.binCountry);
  const ipc = upper(order.ipCountry);
  const bill = upper(order.billingAddress?.country);
  const ship = upper(order.shippingAddress?.country);
  add('bin_country', bin, false, `Card issued in ${bin || 'an unknown country'}.`);
  add('ip_country', ipc, false, `IP address located in ${ipc || 'an unknown country'}.`);
  add('billing_country', bill, false, `Billing country ${bill || 'unknown'}.`);
  add('shipping_country', ship, false, `Shipping country ${ship || 'unknown'}.`);
  const pairs: [string, string, string, string, string][] = [
    ['bin_ip_mismatch', bin, ipc, 'card issuing country', 'IP country'],
    ['bin_billing_mismatch', bin, bill, 'card issuing country', 'billing country'],
    ['billing_shipping_mismatch', bill, ship, 'billing country', 'shipping country'],
    ['ip_shipping_mismatch', ipc, ship, 'IP country', 'shipping country'],
  ];
  let mismatches = 0;
  for (const [name, a, b, la, lb] of pairs) {
    const mismatch = a !== '' && b !== '' && a !== b;
    if (mismatch) mismatches++;
    add(
      name,
      mismatch,
      mismatch,
      mismatch
        ? `The ${la} (${a}) differs from the ${lb} (${b}).`
        : `The ${la} matches the ${lb} or one is unknown.`,
    );
  }
  add('country_mismatches', mismatches, mismatches >= 2, `${mismatches} of 4 country pairs disagree.`);

  // Account age and device.
  const created = order.customer?.accountCreatedAt ? Date.parse(order.customer.accountCreatedAt) : NaN;
  const firstSeen = history.customer?.firstSeen ?? null;
  const since = Number.isFinite(created) ? created : firstSeen;
  const guest = !order.customer?.id;
  const ageDays = since === null || guest ? 0 : Math.max(0, Math.floor((now - since) / DAY));
  add(
    'is_guest',
    guest,
    false,
    guest ? 'Guest checkout (no customer account).' : 'Checkout with a customer account.',
  );
  add('account_age_days', ageDays, false, guest ? 'No account.' : `Account is ${ageDays} days old.`);
  const newAccount = !guest && ageDays < 1;
  add(
    'new_account',
    newAccount,
    newAccount,
    newAccount ? 'Account created less than a day ago.' : 'Account is not brand new.',
  );
  const firstDevice = Boolean(order.deviceId) && !history.deviceSeen;
  add(
    'first_seen_device',
    firstDevice,
    firstDevice && !guest && ageDays > 30,
    firstDevice
      ? 'First order from this device.'
      : order.deviceId
        ? 'Device seen before.'
        : 'No device id sent.',
  );
  const newShip =
    Boolean(order.shippingAddress) &&
    !guest &&
    !history.shippingAddressSeen &&
    (history.customer?.orders ?? 0) > 0;
  add(
    'new_shipping_address',
    newShip,
    newShip,
    newShip
      ? 'An existing customer ships to an address never used before.'
      : 'Shipping address used before, or first order.',
  );

  // E-mail.
  const domain = order.customer?.email ? emailDomain(order.customer.email) : '';
  const disposable = domain !== '' && isDisposableDomain(domain);
  add('email_domain', domain, false, domain ? `E-mail domain ${domain}.` : 'No e-mail address.');
  add(
    'disposable_email',
    disposable,
    disposable,
    disposable
      ? `The e-mail domain ${domain} is a disposable mailbox service.`
      : 'E-mail domain is not a known disposable service.',
  );

  // Amount anomaly.
  const zc = zScore(order.amount, history.customer?.amount ?? null);
  add(
    'amount_z_customer',
    zc,
    zc >= 3,
    zc === 0
      ? 'Not enough order history for this customer to compare the amount.'
      : `Amount is ${zc} standard deviations from this customer's usual orders.`,
  );
  const zcat = zScore(order.amount, history.category);
  add(
    'amount_z_category',
    zcat,
    zcat >= 3,
    zcat === 0
      ? 'Not enough history in this category to compare the amount.'
      : `Amount is ${zcat} standard deviations from usual orders in this category.`,
  );

  // Categories.
  let highRiskAmount = 0;
  let totalAbs = 0;
  for (const item of order.items) {
    const cat = catalog.get(item.productId)?.category ?? item.category;
    const line = Math.abs(item.unitPrice * item.quantity);
    totalAbs += line;
    if (isHighRisk(cat)) highRiskAmount += line;
  }
  const highRiskShare = totalAbs === 0 ? 0 : Math.round((highRiskAmount / totalAbs) * 100) / 100;
  add(
    'high_risk_category',
    highRiskShare > 0,
    highRiskShare >= 0.5,
    highRiskShare > 0
      ? `${Math.round(highRiskShare * 100)}% of the order is in high-risk categories (gift cards, electronics…).`
      : 'No high-risk categories.',
  );
  add('high_risk_share', highRiskShare, highRiskShare >= 0.5, `High-risk share ${highRiskShare}.`);

  // Price manipulation: the client's prices against the catalogue.
  let mismatchItems = 0;
  let unknown = 0;
  let catalogTotal = 0;
  let clientTotal = 0;
  for (const item of order.items) {
    const p = catalog.get(item.productId);
    clientTotal += item.unitPrice * item.quantity;
    if (!p) {
      unknown++;
      continue;
    }
    // A product priced in another currency cannot be compared; it is known, just not checked.
    if (upper(p.currency) !== upper(order.currency)) continue;
    catalogTotal += p.price * item.quantity;
    if (p.price !== item.unitPrice) mismatchItems++;
  }
  add(
    'price_mismatch_items',
    mismatchItems,
    mismatchItems > 0,
    mismatchItems > 0
      ? `${mismatchItems} items were sent at a price different from the catalogue's.`
      : 'Every known item matches the catalogue price.',
  );
  const underpaid =
    catalogTotal > 0 ? Math.max(0, Math.round((1 - clientTotal / catalogTotal) * 100) / 100) : 0;
  add(
    'price_underpaid_ratio',
    underpaid,
    underpaid >= 0.05,
    underpaid > 0
      ? `Client prices are ${Math.round(underpaid * 100)}% below the catalogue.`
      : 'Client prices are not below the catalogue.',
  );
  add(
    'unknown_products',
    unknown,
    unknown > 0,
    unknown > 0 ? `${unknown} items are not in the catalogue.` : 'Every item is in the catalogue.',
  );
  const negative = order.items.some((i) => i.quantity <= 0 || i.unitPrice < 0);
  add(
    'negative_quantity',
    negative,
    negative,
    negative
      ? 'An item has a zero or negative quantity or price.'
      : 'All quantities and prices are positive.',
  );
  const coupons = order.coupons ?? [];
  add('coupon_count', coupons.length, false, `${coupons.length} coupons applied.`);
  const stacked = coupons.length > 1;
  add(
    'stacked_coupons',
    stacked,
    stacked,
    stacked ? `${coupons.length} coupons stacked on one order.` : 'No stacked coupons.',
  );
  const reused = history.reusedCoupons > 0;
  add(
    'reused_coupon',
    reused,
    reused,
    reused ? 'A coupon was already used by this customer.' : 'No coupon reuse.',
  );
  const discount = order.discount ?? 0;
  const base = catalogTotal > 0 ? catalogTotal : Math.max(clientTotal, 1);
  const discountRatio = Math.round((discount / base) * 100) / 100;
  add(
    'discount_ratio',
    discountRatio,
    discountRatio >= 0.5,
    `Discount is ${Math.round(discountRatio * 100)}% of the order.`,
  );
  const expected = clientTotal - discount + (order.shippingCost ?? 0);
  const totalMismatch =
    order.items.length > 0 && Math.abs(expected - order.amount) > Math.max(1, order.items.length);
  add(
    'total_mismatch',
    totalMismatch,
    totalMismatch,
    totalMismatch
      ? `The amount (${money(order.amount)}) does not equal items − discount + shipping (${money(expected)}).`
      : 'The amount adds up.',
  );

  // Refund and return abuse.
  const c = history.customer;
  const returnRate = c && c.orders > 0 ? Math.round(((c.returns + c.refunds) / c.orders) * 100) / 100 : 0;
  add(
    'return_rate',
    returnRate,
    c !== null && c.orders >= 3 && returnRate >= 0.5,
    `The customer returned or was refunded ${Math.round(returnRate * 100)}% of earlier orders.`,
  );
  const refundOver = c !== null && c.refundAmount > c.purchaseAmount && c.refundAmount > 0;
  add(
    'refunds_exceed_purchases',
    refundOver,
    refundOver,
    refundOver ? 'Refunds to this customer exceed what they paid.' : 'Refunds do not exceed purchases.',
  );
  add(
    'not_received_claims',
    history.notReceivedClaims,
    history.notReceivedClaims >= 2,
    `${history.notReceivedClaims} "not received" claims for this shipping address.`,
  );

  // Payment checks.
  const p = order.payment;
  const threeDsFailed = p?.threeDs === 'failed';
  add(
    'threeds_failed',
    threeDsFailed,
    threeDsFailed,
    threeDsFailed ? '3-D Secure authentication failed.' : `3-D Secure: ${p?.threeDs ?? 'not sent'}.`,
  );
  const threeDsOk = p?.threeDs === 'authenticated';
  add(
    'threeds_authenticated',
    threeDsOk,
    false,
    threeDsOk ? 'The cardholder passed 3-D Secure.' : 'No successful 3-D Secure.',
  );
  const avs = p?.avs === 'mismatch';
  add(
    'avs_mismatch',
    avs,
    avs,
    avs ? 'The billing address does not match the card (AVS).' : `AVS: ${p?.avs ?? 'not sent'}.`,
  );
  const cvv = p?.cvv === 'mismatch';
  add(
    'cvv_mismatch',
    cvv,
    cvv,
    cvv ? 'The security code (CVV) did not match.' : `CVV: ${p?.cvv ?? 'not sent'}.`,
  );
  const declined = p?.authResult === 'declined';
  add(
    'auth_declined',
    declined,
    declined,
    declined ? 'The issuer declined this authorisation.' : 'Not declined.',
  );

  const values: Record<string, FeatureValue> = Object.create(null) as Record<string, FeatureValue>;
  for (const f of features) values[f.name] = f.value;
  return { values, features };
}

/** Every feature name rules may use, with its type (checked when a rule is saved). */
export const FEATURE_TYPES: Readonly<Record<string, 'number' | 'string' | 'boolean'>> = (() => {
  const probe = extractFeatures(
    { orderId: 'probe', amount: 0, currency: 'USD', items: [] },
    emptyHistory(),
    new Map(),
    0,
  );
  const out: Record<string, 'number' | 'string' | 'boolean'> = {};
  for (const f of probe.features) out[f.name] = typeof f.value as 'number' | 'string' | 'boolean';
  return out;
})();
