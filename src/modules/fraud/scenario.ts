/**
 * A synthetic fraud scenario for evaluation and tests: a shop's legitimate traffic (returning customers, new
 * customers, travellers, gift buyers, honest declines and returns) with five attack patterns mixed in — card
 * testing bursts, account takeover, triangulation, refund abuse and price tampering. Deterministic for a seed.
 * Every identifier is made up; the CSV has the columns `candor evaluate fraud` maps by default.
 */

export type ScenarioOptions = {
  seed?: number;
  /** Legitimate customers (default 1500). */
  customers?: number;
  days?: number;
  /** Start of the period, epoch ms (default 2025-01-06). */
  start?: number;
};

export type ScenarioRow = {
  txn_id: string;
  ts: string;
  customer_id: string;
  account_created_at: string;
  email: string;
  ip: string;
  ip_country: string;
  device_id: string;
  card_fp: string;
  bin_country: string;
  billing_country: string;
  shipping_country: string;
  shipping_address: string;
  product_id: string;
  category: string;
  quantity: number;
  unit_price: number;
  list_price: number;
  coupons: string;
  discount: number;
  amount: number;
  currency: string;
  auth_result: string;
  three_ds: string;
  avs: string;
  cvv: string;
  outcome: string;
  pattern: string;
  is_fraud: 0 | 1;
};

/** mulberry32: small, fast, good enough for synthetic data. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  };
}

const CATEGORIES = [
  { id: 'fashion', lo: 1500, hi: 12000, weight: 5 },
  { id: 'home', lo: 2000, hi: 20000, weight: 3 },
  { id: 'beauty', lo: 800, hi: 6000, weight: 3 },
  { id: 'books', lo: 500, hi: 4000, weight: 2 },
  { id: 'electronics', lo: 10000, hi: 150000, weight: 2 },
  { id: 'gift-cards', lo: 2500, hi: 20000, weight: 1 },
] as const;
const HOME = ['ID', 'ID', 'ID', 'ID', 'SG', 'MY'];
const ABROAD = ['US', 'GB', 'NG', 'RU', 'BR', 'VN', 'UA', 'RO'];
const MAIL = ['gmail.com', 'yahoo.com', 'outlook.com', 'shop-mail.id'];
const DISPOSABLE = ['mailinator.com', 'yopmail.com', 'guerrillamail.com', 'temp-mail.org'];
const DAY = 86_400_000;

export function generateScenario(options: ScenarioOptions = {}): ScenarioRow[] {
  const r = rng(options.seed ?? 42);
  const nCustomers = options.customers ?? 1500;
  const days = options.days ?? 60;
  const start = options.start ?? Date.UTC(2025, 0, 6);
  const rows: ScenarioRow[] = [];
  let seq = 0;
  // Attack volumes grow with the shop, so the fraud rate stays near 7 % at any size.
  const scaled = (n: number) => Math.max(2, Math.round((n * nCustomers) / 1500));
  const products = CATEGORIES.flatMap((c) =>
    Array.from({ length: 20 }, (_, i) => ({
      id: `${c.id}-${i}`,
      category: c.id,
      price: Math.round(r.int(c.lo, c.hi) / 100) * 100,
    })),
  );
  const weighted = CATEGORIES.flatMap((c) => Array.from({ length: c.weight }, () => c.id));
  const productIn = (cat: string) => r.pick(products.filter((p) => p.category === cat));
  const iso = (t: number) => new Date(t).toISOString();

  type Customer = {
    id: string;
    created: number;
    email: string;
    country: string;
    address: string;
    devices: string[];
    card: string;
    ip: string;
  };
  const customers: Customer[] = Array.from({ length: nCustomers }, (_, i) => {
    const country = r.pick(HOME);
    return {
      id: `c${i}`,
      created: start - r.int(1, 900) * DAY,
      email: `user${i}@${r.pick(MAIL)}`,
      country,
      address: `${r.int(1, 300)} Jalan ${i} ${r.int(10000, 99999)} ${country}`,
      devices: [`d${i}a`, ...(r.chance(0.4) ? [`d${i}b`] : [])],
      card: `card${i}`,
      ip: `10.${i % 250}.${r.int(0, 255)}.${r.int(1, 254)}`,
    };
  });

  const push = (row: Omit<ScenarioRow, 'txn_id' | 'currency'>) => {
    rows.push({ ...row, txn_id: `t${(seq++).toString().padStart(6, '0')}`, currency: 'IDR' });
  };

  const legit = (c: Customer, t: number, over: Partial<ScenarioRow> = {}) => {
    const cat = r.pick(weighted);
    const p = productIn(cat);
    const qty = r.chance(0.85) ? 1 : r.int(2, 3);
    const coupon = r.chance(0.1) ? 'WELCOME10' : '';
    const discount = coupon ? Math.round(p.price * qty * 0.1) : 0;
    const traveller = r.chance(0.03);
    const ipCountry = traveller ? r.pick(ABROAD) : c.country;
    const declined = r.chance(0.03);
    const outcome = declined ? '' : r.chance(0.06) ? 'return' : r.chance(0.01) ? 'not_received' : '';
    push({
      ts: iso(t),
      customer_id: c.id,
      account_created_at: iso(c.created),
      email: c.email,
      ip: traveller ? `172.16.${r.int(0, 255)}.${r.int(1, 254)}` : c.ip,
      ip_country: ipCountry,
      device_id: r.chance(0.05) ? `d${c.id}-new${r.int(0, 9999)}` : r.pick(c.devices),
      card_fp: c.card,
      bin_country: c.country,
      billing_country: c.country,
      shipping_country: r.chance(0.04) ? r.pick(HOME) : c.country,
      shipping_address: r.chance(0.05) ? `gift ${r.int(1, 1e6)} ${c.country}` : c.address,
      product_id: p.id,
      category: cat,
      quantity: qty,
      unit_price: p.price,
      list_price: p.price,
      coupons: coupon,
      discount,
      amount: p.price * qty - discount,
      auth_result: declined ? 'declined' : 'approved',
      three_ds: r.chance(0.6) ? 'authenticated' : 'not_enrolled',
      avs: r.chance(0.95) ? 'match' : 'partial',
      cvv: r.chance(0.99) ? 'match' : 'mismatch',
      outcome,
      pattern: 'legitimate',
      is_fraud: 0,
      ...over,
    });
  };

  // Legitimate traffic: each customer orders a few times over the period.
  for (const c of customers) {
    const orders = 1 + Math.floor(-Math.log(1 - r.next()) * 3);
    for (let k = 0; k < orders; k++) legit(c, start + r.int(0, days * DAY - 1));
  }
  // New customers signing up during the period (some with disposable mail, honestly).
  for (let i = 0; i < nCustomers / 5; i++) {
    const t = start + r.int(0, days * DAY - 1);
    const country = r.pick(HOME);
    const c: Customer = {
      id: `n${i}`,
      created: t - r.int(0, 3_600_000),
      email: `new${i}@${r.chance(0.05) ? r.pick(DISPOSABLE) : r.pick(MAIL)}`,
      country,
      address: `${r.int(1, 300)} Gang ${i} ${country}`,
      devices: [`nd${i}`],
      card: `ncard${i}`,
      ip: `10.200.${r.int(0, 255)}.${r.int(1, 254)}`,
    };
    legit(c, t);
  }

  const fraudRow = (t: number, pattern: string, over: Partial<ScenarioRow>) => {
    const cat = over.category ?? r.pick(['electronics', 'gift-cards', 'electronics', 'fashion']);
    const p = productIn(cat);
    const foreign = r.pick(ABROAD);
    push({
      ts: iso(t),
      customer_id: '',
      account_created_at: '',
      email: `${pattern}${r.int(1, 1e6)}@${r.chance(0.5) ? r.pick(DISPOSABLE) : r.pick(MAIL)}`,
      ip: `203.0.${r.int(0, 255)}.${r.int(1, 254)}`,
      ip_country: foreign,
      device_id: `fd${r.int(1, 1e6)}`,
      card_fp: `stolen${r.int(1, 1e7)}`,
      bin_country: r.pick(ABROAD),
      billing_country: foreign,
      shipping_country: r.pick(HOME),
      shipping_address: `drop ${r.int(1, 40)} ID`,
      product_id: p.id,
      category: cat,
      quantity: 1,
      unit_price: p.price,
      list_price: p.price,
      coupons: '',
      discount: 0,
      amount: p.price,
      auth_result: 'approved',
      three_ds: r.chance(0.7) ? 'not_enrolled' : 'attempted',
      avs: r.chance(0.5) ? 'mismatch' : 'unavailable',
      cvv: r.chance(0.8) ? 'match' : 'mismatch',
      outcome: 'chargeback',
      pattern,
      is_fraud: 1,
      ...over,
    });
  };

  // 1. Card testing bursts: one device/IP, many stolen cards, small amounts, mostly declined.
  for (let b = 0, n = scaled(12); b < n; b++) {
    let t = start + r.int(0, days * DAY - 1);
    const device = `bot${b}`;
    const ip = `198.51.100.${b + 1}`;
    const country = r.pick(ABROAD);
    const attempts = r.int(8, 25);
    for (let k = 0; k < attempts; k++) {
      t += r.int(5_000, 90_000);
      const small = r.int(100, 450);
      fraudRow(t, 'card_testing', {
        device_id: device,
        ip,
        ip_country: country,
        billing_country: country,
        category: 'gift-cards',
        unit_price: small,
        list_price: small,
        amount: small,
        auth_result: r.chance(0.75) ? 'declined' : 'approved',
        outcome: '',
      });
    }
  }
  // 2. Account takeover: a real customer's account, new device, foreign IP, new address, expensive goods.
  for (let k = 0, n = scaled(40); k < n; k++) {
    const c = r.pick(customers);
    const t = start + r.int(5 * DAY, days * DAY - 1);
    const p = productIn('electronics');
    const qty = r.int(1, 3);
    fraudRow(t, 'account_takeover', {
      customer_id: c.id,
      account_created_at: iso(c.created),
      email: c.email,
      card_fp: r.chance(0.5) ? c.card : `stolen${r.int(1, 1e7)}`,
      bin_country: c.country,
      billing_country: c.country,
      shipping_country: c.country,
      shipping_address: `new ${r.int(1, 1e6)} ${c.country}`,
      product_id: p.id,
      category: 'electronics',
      quantity: qty,
      unit_price: p.price,
      list_price: p.price,
      amount: p.price * qty,
      three_ds: 'not_enrolled',
      avs: 'match',
      cvv: 'match',
    });
  }
  // 3. Triangulation: stolen cards paying for goods shipped to real buyers, from a few reseller IPs.
  for (let k = 0, n = scaled(60); k < n; k++) {
    const t = start + r.int(0, days * DAY - 1);
    const buyer = r.pick(customers);
    fraudRow(t, 'triangulation', {
      ip: `192.0.2.${r.int(1, 6)}`,
      device_id: `tri${r.int(1, 6)}`,
      shipping_country: buyer.country,
      shipping_address: buyer.address,
      category: r.pick(['fashion', 'home', 'electronics']),
      avs: 'mismatch',
    });
  }
  // 4. Refund abuse: customers who claim "not received" or refunds again and again.
  for (let k = 0, n = Math.min(scaled(15), Math.floor(nCustomers / 7)); k < n; k++) {
    const c = customers[k * 7]!;
    let t = start + r.int(0, 10 * DAY);
    const n = r.int(4, 8);
    for (let i = 0; i < n; i++) {
      t += r.int(2 * DAY, 6 * DAY);
      if (t >= start + days * DAY) break;
      const p = productIn(r.pick(['electronics', 'fashion', 'beauty']));
      push({
        ts: iso(t),
        customer_id: c.id,
        account_created_at: iso(c.created),
        email: c.email,
        ip: c.ip,
        ip_country: c.country,
        device_id: c.devices[0]!,
        card_fp: c.card,
        bin_country: c.country,
        billing_country: c.country,
        shipping_country: c.country,
        shipping_address: c.address,
        product_id: p.id,
        category: p.category,
        quantity: 1,
        unit_price: p.price,
        list_price: p.price,
        coupons: '',
        discount: 0,
        amount: p.price,
        auth_result: 'approved',
        three_ds: 'authenticated',
        avs: 'match',
        cvv: 'match',
        outcome: r.chance(0.6) ? 'not_received' : 'refund',
        pattern: 'refund_abuse',
        // The first order looks like any other; the abuse shows in the pattern that follows.
        is_fraud: i === 0 ? 0 : 1,
      });
    }
  }
  // 5. Price tampering: client-side prices cut, negative quantities, stacked coupons.
  for (let k = 0, n = scaled(50); k < n; k++) {
    const c = r.pick(customers);
    const t = start + r.int(0, days * DAY - 1);
    const p = productIn(r.pick(['electronics', 'fashion', 'home']));
    const kind = r.pick(['price', 'price', 'negative', 'coupons'] as const);
    const unit = kind === 'price' ? Math.round(p.price * r.pick([0.01, 0.1, 0.5])) : p.price;
    // A negative line is how a client cuts a basket's total; in one-line CSV rows it shows as quantity −1.
    const qty = kind === 'negative' ? -1 : 1;
    const coupons = kind === 'coupons' ? 'WELCOME10;VIP50;SPRING20' : '';
    const discount = kind === 'coupons' ? Math.round(p.price * 0.8) : 0;
    legit(c, t, {
      product_id: p.id,
      category: p.category,
      quantity: qty,
      unit_price: unit,
      list_price: p.price,
      coupons,
      discount,
      amount: kind === 'negative' ? Math.round(p.price * 0.2) : unit * qty - discount,
      outcome: '',
      pattern: 'price_tampering',
      is_fraud: 1,
    });
  }
  rows.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  return rows;
}

const COLUMNS: (keyof ScenarioRow)[] = [
  'txn_id',
  'ts',
  'customer_id',
  'account_created_at',
  'email',
  'ip',
  'ip_country',
  'device_id',
  'card_fp',
  'bin_country',
  'billing_country',
  'shipping_country',
  'shipping_address',
  'product_id',
  'category',
  'quantity',
  'unit_price',
  'list_price',
  'coupons',
  'discount',
  'amount',
  'currency',
  'auth_result',
  'three_ds',
  'avs',
  'cvv',
  'outcome',
  'pattern',
  'is_fraud',
];

const cell = (v: string | number) => {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

export function scenarioToCsv(rows: readonly ScenarioRow[]): string {
  return [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}
