/**
 * Simulated shoppers of the demo shop, as the calls their browsers and the shop's backend send to Candor.
 *
 * Streaming by construction: arrival times are drawn already sorted (sequential order statistics), each
 * shopper is a lazy generator of its own calls driven by its own seeded RNG, and a heap merges the shoppers
 * that are currently active. Memory grows with the number of concurrently active shoppers, never with the
 * number of calls, so a 10M-event benchmark load streams through in constant memory per active shopper.
 */
import type {
  CallContext,
  ConsentBody,
  DemoCall,
  OrderItem,
  PageBody,
  Purposes,
  TrackBody,
  Traits,
} from './calls.ts';
import { NOTICE_VERSION } from './calls.ts';
import {
  generateCatalog,
  indexCatalog,
  nounKey,
  type CatalogIndex,
  type DemoCatalog,
  type Language,
} from './catalog.ts';
import { createRng, mixSeed, type Rng } from './rng.ts';
import {
  CITIES,
  FIRST_NAMES,
  LAST_NAMES,
  REVIEW_ASPECTS,
  REVIEW_TEMPLATES,
  STREETS,
  TOP_CATEGORIES,
  UNSOLD_QUERIES,
  toTraditional,
  type Text3,
} from './vocabulary.ts';

export const DAY_MS = 86_400_000;
export const SHOP_URL = 'https://shop.example.test';

export type GenerateShoppersOptions = {
  seed: number;
  shoppers: number;
  days: number;
  /** First instant of the simulated period (epoch ms, Date or ISO string). */
  start: number | Date | string;
  /** The catalogue shoppers browse; generated from `seed` (and `products`) when absent. */
  catalog?: DemoCatalog;
  products?: number;
};

/** How a shopper answered the consent banner (the demo's consent mix). */
export type ConsentChoice = 'accept_all' | 'analytics_only' | 'reject_all' | 'gpc';

export const CONSENT_MIX: readonly (readonly [ConsentChoice, number])[] = [
  ['accept_all', 0.55],
  ['analytics_only', 0.2],
  ['reject_all', 0.15],
  ['gpc', 0.1],
];

/** Share of carts that end in an order; the rest are abandoned (about 70%, as in real shops). */
const CART_CONVERSION = 0.32;
/** Share of shoppers with an account who log in (identify) during a visit. */
const ACCOUNT_SHARE = 0.4;

// Relative traffic by hour of the day in Western Indonesia Time (UTC+7): evenings are busiest.
const WIB_HOURLY = [
  1.2, 0.6, 0.3, 0.2, 0.3, 0.8, 1.5, 2.5, 3.2, 3.5, 3.6, 3.8, 4.2, 4.0, 3.6, 3.5, 3.6, 4.0, 4.4, 5.2, 6.0,
  6.2, 5.0, 2.8,
];

type Diurnal = { inverse(fraction: number): number };

function createDiurnal(): Diurnal {
  const cdf: number[] = [];
  let total = 0;
  for (let utcHour = 0; utcHour < 24; utcHour++) {
    total += WIB_HOURLY[(utcHour + 7) % 24]!;
    cdf.push(total);
  }
  return {
    // Monotone map of [0,1) onto the day: keeps sorted arrivals sorted while bunching them in the evening.
    inverse: (fraction) => {
      const target = fraction * total;
      let h = 0;
      while (h < 23 && cdf[h]! <= target) h++;
      const before = h === 0 ? 0 : cdf[h - 1]!;
      const within = (target - before) / (cdf[h]! - before);
      return (h + Math.min(0.999999, Math.max(0, within))) / 24;
    },
  };
}

type Env = {
  seed: number;
  start: number;
  end: number;
  days: number;
  index: CatalogIndex;
  categoryNames: Map<string, Text3>;
  diurnal: Diurnal;
};

export function toEpochMs(value: number | Date | string): number {
  const ms = typeof value === 'number' ? value : new Date(value).getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`start is not a valid time: ${String(value)}`);
  return ms;
}

type HeapEntry = { call: DemoCall; shopper: number; seq: number; calls: Iterator<DemoCall, void> };

function before(a: HeapEntry, b: HeapEntry): boolean {
  if (a.call.at !== b.call.at) return a.call.at < b.call.at;
  if (a.shopper !== b.shopper) return a.shopper < b.shopper;
  return a.seq < b.seq;
}

/** A binary min-heap on (time, shopper, sequence): ties break the same way on every run. */
class CallHeap {
  private readonly items: HeapEntry[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): HeapEntry | undefined {
    return this.items[0];
  }
  push(entry: HeapEntry): void {
    const a = this.items;
    a.push(entry);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }
  pop(): HeapEntry | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Every call of every shopper, globally in non-decreasing `at` order. Lazy: nothing is generated until the
 * consumer asks for the next call, so it can be consumed partially or streamed to a store in batches.
 */
export function* generateShoppers(options: GenerateShoppersOptions): Generator<DemoCall, void, undefined> {
  const { seed, shoppers, days } = options;
  if (!Number.isInteger(shoppers) || shoppers < 0)
    throw new RangeError('shoppers must be a non-negative integer');
  if (!Number.isInteger(days) || days < 1) throw new RangeError('days must be a positive integer');
  const start = toEpochMs(options.start);
  const catalog =
    options.catalog ??
    generateCatalog(options.products === undefined ? { seed } : { seed, products: options.products });
  const env: Env = {
    seed,
    start,
    end: start + days * DAY_MS,
    days,
    index: indexCatalog(catalog),
    categoryNames: new Map(catalog.categories.map((c) => [c.path, c.name])),
    diurnal: createDiurnal(),
  };

  const arrivalRng = createRng(mixSeed(seed, 0xa771));
  let arrived = 0;
  let u = 0;
  const nextArrival = (): number => {
    // The next of `shoppers` sorted uniforms, drawn one at a time (no array of arrivals).
    u = 1 - (1 - u) * Math.pow(arrivalRng.next(), 1 / (shoppers - arrived));
    const offset = Math.min(u, 0.999999999) * days * DAY_MS;
    const day = Math.floor(offset / DAY_MS);
    return start + day * DAY_MS + Math.floor(env.diurnal.inverse(offset / DAY_MS - day) * DAY_MS);
  };

  const heap = new CallHeap();
  let arrivalAt = shoppers > 0 ? nextArrival() : Infinity;
  while (heap.size > 0 || arrived < shoppers) {
    const top = heap.peek();
    if (arrived < shoppers && (!top || arrivalAt <= top.call.at)) {
      const calls = shopperCalls(env, arrived, arrivalAt);
      const first = calls.next();
      if (!first.done) heap.push({ call: first.value, shopper: arrived, seq: 0, calls });
      arrived++;
      if (arrived < shoppers) arrivalAt = Math.max(arrivalAt, nextArrival());
      continue;
    }
    const entry = heap.pop()!;
    yield entry.call;
    const next = entry.calls.next();
    if (!next.done) {
      entry.call = next.value;
      entry.seq++;
      heap.push(entry);
    }
  }
}

type PageKind = 'home' | 'category' | 'product' | 'search' | 'cart' | 'checkout' | 'success' | 'review';

type Page = {
  kind: PageKind;
  path: string;
  title: string;
  url: string;
  product?: number;
  category?: string;
  enteredAt: number;
  dwell: number;
  context: CallContext | null;
};

type Shopper = {
  index: number;
  rng: Rng;
  lang: Language;
  hant: boolean;
  locale: string;
  anonymousId: string;
  customerId: string | null;
  identified: boolean;
  /** Sends browser calls at all (consent for analytics). Orders are sent by the shop regardless. */
  tracks: boolean;
  purposes: Purposes;
  choice: ConsentChoice;
  userAgent: string;
  ip: string;
  interests: number[];
  rate: number;
  oneAndDone: boolean;
  now: number;
  sessions: number;
  carts: number;
  cart: { id: string; items: { product: number; quantity: number }[]; converts: boolean } | null;
  orders: number;
  reviewsDue: { product: number; orderId: string; after: number }[];
};

const LOCALES: readonly (readonly [[Language, string, boolean], number])[] = [
  [['id', 'id-ID', false], 0.6],
  [['en', 'en-ID', false], 0.1],
  [['en', 'en-US', false], 0.1],
  [['zh', 'zh-CN', false], 0.12],
  [['zh', 'zh-TW', true], 0.08],
];

const ANDROID_MODELS = ['SM-A546E', 'Redmi Note 13', 'CPH2591', 'V2250', 'moto g54 5G', 'Infinix X6833B'];

function userAgentFor(rng: Rng): string {
  const device = rng.weighted([
    ['android', 0.56],
    ['iphone', 0.15],
    ['windows', 0.17],
    ['mac', 0.09],
    ['ipad', 0.03],
  ] as const);
  const chrome = rng.int(124, 131);
  switch (device) {
    case 'android':
      return `Mozilla/5.0 (Linux; Android ${rng.int(11, 14)}; ${rng.pick(ANDROID_MODELS)}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chrome}.0.0.0 Mobile Safari/537.36`;
    case 'iphone': {
      const v = `${rng.int(16, 17)}_${rng.int(0, 6)}`;
      return `Mozilla/5.0 (iPhone; CPU iPhone OS ${v} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${v.replace('_', '.')} Mobile/15E148 Safari/604.1`;
    }
    case 'windows':
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chrome}.0.0.0 Safari/537.36`;
    case 'mac':
      return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.${rng.int(0, 5)} Safari/605.1.15`;
    case 'ipad':
      return 'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
  }
}

/** Addresses from the ranges reserved for documentation, so no real host is ever named. */
function documentationIp(rng: Rng): string {
  if (rng.chance(0.1))
    return `2001:db8:${rng.int(0, 0xffff).toString(16)}::${rng.int(1, 0xffff).toString(16)}`;
  return `${rng.pick(['192.0.2', '198.51.100', '203.0.113'])}.${rng.int(1, 254)}`;
}

function purposesFor(choice: ConsentChoice): Purposes {
  switch (choice) {
    case 'accept_all':
      return {
        analytics: true,
        personalization: true,
        marketing_email: true,
        marketing_push: true,
        advertising: true,
        sale: true,
      };
    case 'analytics_only':
      return {
        analytics: true,
        personalization: false,
        marketing_email: false,
        marketing_push: false,
        advertising: false,
        sale: false,
      };
    case 'reject_all':
      return {
        analytics: false,
        personalization: false,
        marketing_email: false,
        marketing_push: false,
        advertising: false,
        sale: false,
      };
    case 'gpc':
      // The browser's Global Privacy Control opts out of sale and targeted ads; the banner choice covers the rest.
      return {
        analytics: true,
        personalization: true,
        marketing_email: false,
        marketing_push: false,
        advertising: false,
        sale: false,
      };
  }
}

function createShopper(env: Env, index: number): Shopper {
  const rng = createRng(mixSeed(env.seed, 0x5409, index));
  const [lang, locale, hant] = rng.weighted(LOCALES);
  const choice = rng.weighted(CONSENT_MIX);
  const purposes = purposesFor(choice);
  const interests: number[] = [];
  const topWeights = TOP_CATEGORIES.map((c, i) => [i, c.weight] as const);
  for (let k = rng.int(1, 3); k > 0; k--) interests.push(rng.weighted(topWeights));
  return {
    index,
    rng,
    lang,
    hant,
    locale,
    anonymousId: rng.uuid(),
    customerId: rng.chance(ACCOUNT_SHARE) ? `cus_${String(index + 1).padStart(7, '0')}` : null,
    identified: false,
    tracks: purposes.analytics,
    purposes,
    choice,
    userAgent: userAgentFor(rng),
    ip: documentationIp(rng),
    interests,
    rate: 0.05 + rng.next() * 0.35,
    oneAndDone: rng.chance(0.5),
    now: 0,
    sessions: 0,
    carts: 0,
    cart: null,
    orders: 0,
    reviewsDue: [],
  };
}

function* shopperCalls(env: Env, index: number, arrivalAt: number): Generator<DemoCall, void, undefined> {
  const s = createShopper(env, index);
  const rng = s.rng;
  const consent: ConsentBody = {
    anonymousId: s.anonymousId,
    purposes: s.purposes,
    noticeVersion: NOTICE_VERSION,
    method: s.choice === 'gpc' ? 'gpc' : 'banner',
    locale: s.locale,
  };
  if (s.choice === 'gpc') consent.gpc = true;
  yield { kind: 'consent', at: arrivalAt, body: consent };

  yield* session(env, s, arrivalAt);
  if (s.oneAndDone) return;

  // Lifecycle: active shoppers come back at their own rate, some start lapsing, lapsing ones churn.
  let state: 'active' | 'lapsing' = 'active';
  const firstDay = Math.floor((arrivalAt - env.start) / DAY_MS);
  for (let day = firstDay + 1; day < env.days; day++) {
    if (state === 'active' && rng.chance(0.04)) state = 'lapsing';
    else if (state === 'lapsing') {
      if (rng.chance(0.08)) return;
      if (rng.chance(0.05)) state = 'active';
    }
    const visits = Math.min(3, rng.poisson(state === 'active' ? s.rate : s.rate / 4));
    if (visits === 0) continue;
    const dayStart = env.start + day * DAY_MS;
    const starts: number[] = [];
    for (let k = 0; k < visits; k++)
      starts.push(dayStart + Math.floor(env.diurnal.inverse(rng.next()) * DAY_MS));
    starts.sort((a, b) => a - b);
    for (const at of starts) {
      const begin = Math.max(at, s.now + 20 * 60_000);
      if (begin >= env.end) return;
      yield* session(env, s, begin);
    }
  }
}

type Source =
  'direct' | 'google' | 'instagram' | 'tiktok' | 'facebook' | 'whatsapp' | 'newsletter' | 'affiliate';

const CAMPAIGNS = ['harbolnas_12_12', 'ramadan_sale', 'payday_sale', 'new_arrivals'] as const;

const REFERRERS: Record<Source, string> = {
  direct: '',
  google: 'https://www.google.com/',
  instagram: 'https://l.instagram.com/',
  tiktok: 'https://www.tiktok.com/',
  facebook: 'https://l.facebook.com/',
  whatsapp: '',
  newsletter: '',
  affiliate: 'https://blog.example.test/',
};

const PAGE_TITLES: Record<'home' | 'cart' | 'checkout' | 'success' | 'search', Record<Language, string>> = {
  home: { en: 'Toko Demo – Online Shop', id: 'Toko Demo – Belanja Online', zh: 'Toko Demo 网上商城' },
  cart: { en: 'Shopping Cart', id: 'Keranjang Belanja', zh: '购物车' },
  checkout: { en: 'Checkout', id: 'Checkout', zh: '结算' },
  success: { en: 'Thank you for your order', id: 'Terima kasih atas pesanan Anda', zh: '下单成功' },
  search: { en: 'Search results for', id: 'Hasil pencarian untuk', zh: '搜索结果：' },
};

/** Seconds a shopper typically stays on a page of this kind (median of a log-normal). */
const DWELL_S: Record<PageKind, number> = {
  home: 9,
  category: 18,
  product: 38,
  search: 12,
  cart: 15,
  checkout: 70,
  success: 8,
  review: 60,
};

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function* session(env: Env, s: Shopper, startAt: number): Generator<DemoCall, void, undefined> {
  const rng = s.rng;
  const { catalog } = env.index;
  s.now = startAt;
  s.sessions++;
  const sessionId = `${rng.hex32()}${rng.hex32()}`;

  // A few consenting shoppers later withdraw in the privacy centre; from then on only orders are sent.
  if (s.tracks && s.sessions > 1 && rng.chance(0.02)) {
    s.purposes = purposesFor('reject_all');
    s.tracks = false;
    const body: ConsentBody = {
      anonymousId: s.anonymousId,
      purposes: s.purposes,
      noticeVersion: NOTICE_VERSION,
      method: 'api',
      locale: s.locale,
    };
    if (s.identified && s.customerId) body.userId = s.customerId;
    yield { kind: 'consent', at: s.now, body };
  }

  const source = rng.weighted<Source>([
    ['direct', 30],
    ['google', 25],
    ['instagram', 12],
    ['tiktok', 10],
    ['facebook', 8],
    ['whatsapp', 5],
    ['newsletter', s.purposes.marketing_email ? 6 : 0],
    ['affiliate', 4],
  ]);
  let campaign: CallContext['campaign'] | undefined;
  if (source === 'google' && rng.chance(0.5))
    campaign = { source: 'google', medium: 'cpc', name: rng.pick(CAMPAIGNS) };
  else if (source === 'instagram' || source === 'tiktok' || source === 'facebook')
    campaign = { source, medium: 'paid_social', name: rng.pick(CAMPAIGNS) };
  else if (source === 'whatsapp') campaign = { source, medium: 'social', name: 'product_share' };
  else if (source === 'newsletter') campaign = { source, medium: 'email', name: 'weekly_digest' };
  else if (source === 'affiliate')
    campaign = { source: 'partner_blog', medium: 'affiliate', name: 'gift_guide' };

  const userId = (): { userId?: string } => (s.identified && s.customerId ? { userId: s.customerId } : {});
  let page = null as Page | null;
  let referrer = REFERRERS[source];

  const contextFor = (p: { path: string; url: string; title: string }): CallContext => {
    const c: CallContext = {
      page: { path: p.path, url: p.url, referrer, title: p.title },
      userAgent: s.userAgent,
      locale: s.locale,
      ip: s.ip,
      sessionId,
    };
    if (campaign) c.campaign = campaign;
    return c;
  };
  const track = (event: string, properties: Record<string, unknown>): DemoCall => {
    const body: TrackBody = {
      messageId: rng.uuid(),
      anonymousId: s.anonymousId,
      ...userId(),
      event,
      properties,
      context: page?.context ?? contextFor({ path: '/', url: `${SHOP_URL}/`, title: '' }),
      timestamp: iso(s.now),
    };
    return { kind: 'track', at: s.now, body };
  };
  const text = (value: string): string => (s.hant ? toTraditional(value) : value);
  const advance = (ms: number): void => {
    s.now += Math.max(1, Math.round(ms));
  };
  const dwellFor = (kind: PageKind): number =>
    Math.round(Math.max(1500, Math.exp(Math.log(DWELL_S[kind] * 1000) + 0.6 * rng.normal())));

  /** Leaves the current page (page_leave) and opens the next one (page call + its event). */
  function* visit(
    kind: PageKind,
    path: string,
    title: string,
    product?: number,
    category?: string,
  ): Generator<DemoCall> {
    if (page) {
      s.now = Math.max(s.now, page.enteredAt + page.dwell);
      if (s.tracks) {
        const engaged = Math.round((s.now - page.enteredAt) * (0.45 + 0.5 * rng.next()));
        const depth = Math.round(
          Math.min(100, Math.max(5, rng.normal(page.kind === 'product' ? 65 : 50, 25))),
        );
        yield track('page_leave', { path: page.path, engaged_ms: engaged, scroll_depth: depth });
      }
      referrer = page.url;
      advance(300 + rng.next() * 1500);
    }
    const url = `${SHOP_URL}${path}`;
    const next: Page = { kind, path, title, url, enteredAt: s.now, dwell: dwellFor(kind), context: null };
    if (product !== undefined) next.product = product;
    if (category !== undefined) next.category = category;
    if (s.tracks) {
      next.context = contextFor(next);
      const body: PageBody = {
        messageId: rng.uuid(),
        anonymousId: s.anonymousId,
        ...userId(),
        name: title,
        properties: { path, url, referrer, title },
        context: next.context,
        timestamp: iso(s.now),
      };
      yield { kind: 'page', at: s.now, body };
    }
    page = next;
    if (!s.tracks) return;
    advance(40 + rng.next() * 200);
    if (kind === 'product' && product !== undefined) {
      const p = catalog.products[product]!;
      yield track('product_view', {
        product_id: p.id,
        category: p.categoryPath,
        price: p.price,
        currency: p.currency,
      });
    } else if (kind === 'category' && category !== undefined) {
      const list = env.index.bySubcategory.get(category)?.products ?? [];
      yield track('product_list_view', {
        list_id: category,
        category,
        products: list
          .slice(0, 8)
          .map((i, position) => ({ product_id: catalog.products[i]!.id, position: position + 1 })),
      });
    }
  }

  const pickProduct = (): number => {
    if (rng.chance(0.3)) return env.index.byRank[env.index.popularity.sample(rng)]!;
    return pickFromCategory(pickCategory());
  };
  const pickCategory = (): string => {
    const top =
      TOP_CATEGORIES[rng.chance(0.75) ? rng.pick(s.interests) : rng.int(0, TOP_CATEGORIES.length - 1)]!;
    const sub = rng.weighted(top.subcategories.map((c) => [c, c.weight] as const));
    return `${top.slug}/${sub.slug}`;
  };
  const pickFromCategory = (path: string): number => {
    const entry = env.index.bySubcategory.get(path);
    if (!entry || entry.products.length === 0) return env.index.byRank[env.index.popularity.sample(rng)]!;
    return entry.products[entry.zipf.sample(rng)]!;
  };
  const productPage = (i: number) => {
    const p = catalog.products[i]!;
    return visit('product', `/p/${p.id}`, p.title[s.lang], i);
  };
  const categoryPage = (path: string) => {
    const name = env.categoryNames.get(path)?.[s.lang] ?? path;
    return visit('category', `/c/${path}`, text(name), undefined, path);
  };

  /** A search in the shopper's language; returns the product clicked, if any. */
  function* search(): Generator<DemoCall, number | null> {
    const { query, results } = searchQuery(env, s);
    yield* visit(
      'search',
      `/search?q=${encodeURIComponent(query)}`,
      `${text(PAGE_TITLES.search[s.lang])} ${query}`,
    );
    if (s.tracks) yield track('search', { query, results_count: results.length });
    if (results.length === 0 || !rng.chance(0.68)) return null;
    const position = Math.min(results.length, 1 + rng.geometric(0.38));
    const clicked = results[position - 1]!;
    advance(2000 + rng.next() * 8000);
    if (s.tracks) yield track('search_click', { query, product_id: catalog.products[clicked]!.id, position });
    return clicked;
  }

  // Landing page, by traffic source.
  const landing = rng.next();
  if (source === 'direct' && landing < 0.7) yield* visit('home', '/', text(PAGE_TITLES.home[s.lang]));
  else if (source === 'google' && landing < 0.35) yield* categoryPage(pickCategory());
  else if (source === 'newsletter' && landing < 0.5) yield* categoryPage(pickCategory());
  else yield* productPage(pickProduct());

  // A review owed for an earlier order is written first, from the link in the delivery notification.
  const due = s.reviewsDue.findIndex((r) => r.after <= s.now);
  if (due >= 0 && rng.chance(0.7)) {
    const review = s.reviewsDue.splice(due, 1)[0]!;
    const p = catalog.products[review.product]!;
    yield* visit('review', `/p/${p.id}/review`, p.title[s.lang], review.product);
    advance(page!.dwell * 0.8);
    if (s.tracks) {
      const { rating, text: body } = reviewText(env, s, review.product);
      yield track('review_submitted', { product_id: p.id, order_id: review.orderId, rating, text: body });
    }
  }

  const steps = 1 + Math.min(30, rng.geometric(0.15));
  const identifyAt = s.customerId && !s.identified ? rng.int(0, Math.min(3, steps - 1)) : -1;
  for (let step = 0; step < steps; step++) {
    if (step > 0) {
      const current = page!;
      const r = rng.next();
      if (current.kind === 'home') {
        if (r < 0.5) yield* categoryPage(pickCategory());
        else if (r < 0.8) {
          const clicked = yield* search();
          if (clicked !== null) yield* productPage(clicked);
        } else yield* productPage(pickProduct());
      } else if (current.kind === 'category') {
        if (r < 0.65) yield* productPage(pickFromCategory(current.category ?? pickCategory()));
        else if (r < 0.75) yield* categoryPage(pickCategory());
        else if (r < 0.9) {
          const clicked = yield* search();
          if (clicked !== null) yield* productPage(clicked);
        } else yield* visit('home', '/', text(PAGE_TITLES.home[s.lang]));
      } else if (current.kind === 'search') {
        if (r < 0.5) {
          const clicked = yield* search();
          if (clicked !== null) yield* productPage(clicked);
        } else if (r < 0.8) yield* categoryPage(pickCategory());
        else yield* visit('home', '/', text(PAGE_TITLES.home[s.lang]));
      } else {
        // From a product (or review) page: related products dominate, as recommendation widgets do.
        const path =
          current.product !== undefined ? catalog.products[current.product]!.categoryPath : pickCategory();
        if (r < 0.4) yield* productPage(pickFromCategory(path));
        else if (r < 0.6) yield* categoryPage(path);
        else if (r < 0.8) {
          const clicked = yield* search();
          if (clicked !== null) yield* productPage(clicked);
        } else yield* productPage(pickProduct());
      }
    }

    if (step === identifyAt && s.customerId) {
      // Logs in (or signs up) part-way through the visit; later calls carry the customer id.
      s.identified = true;
      advance(4000 + rng.next() * 20000);
      if (s.tracks && page?.context) {
        yield {
          kind: 'identify',
          at: s.now,
          body: {
            messageId: rng.uuid(),
            anonymousId: s.anonymousId,
            userId: s.customerId,
            traits: traitsFor(s),
            context: page.context,
            timestamp: iso(s.now),
          },
        };
      }
    }

    const current = page!;
    if (current.kind === 'product' && current.product !== undefined) {
      const p = catalog.products[current.product]!;
      if (rng.chance(0.03)) {
        advance(current.dwell * 0.3);
        const via = rng.pick(
          s.lang === 'zh' ? ['wechat', 'whatsapp', 'copy_link'] : ['whatsapp', 'facebook', 'copy_link', 'x'],
        );
        if (s.tracks) yield track('product_shared', { product_id: p.id, share_via: via });
      }
      if (p.stock > 0 && rng.chance(s.orders > 0 ? 0.16 : 0.11)) {
        advance(current.dwell * 0.5);
        if (!s.cart) {
          s.carts++;
          s.cart = {
            id: `c${s.index.toString(36)}-${s.carts}`,
            items: [],
            converts: rng.chance(CART_CONVERSION),
          };
        }
        const quantity = rng.weighted([
          [1, 0.85],
          [2, 0.1],
          [3, 0.05],
        ] as const);
        const line = s.cart.items.find((it) => it.product === current.product);
        if (line) line.quantity += quantity;
        else s.cart.items.push({ product: current.product, quantity });
        if (s.tracks)
          yield track('add_to_cart', {
            cart_id: s.cart.id,
            product_id: p.id,
            price: p.price,
            currency: p.currency,
            quantity,
          });
      } else if (s.cart && s.cart.items.length > 1 && rng.chance(0.06)) {
        const removed = s.cart.items.splice(rng.int(0, s.cart.items.length - 1), 1)[0]!;
        const rp = catalog.products[removed.product]!;
        advance(current.dwell * 0.4);
        if (s.tracks)
          yield track('remove_from_cart', {
            cart_id: s.cart.id,
            product_id: rp.id,
            price: rp.price,
            currency: rp.currency,
            quantity: removed.quantity,
          });
      }
    }
  }

  // End of the visit: a converting cart is checked out (mostly now, sometimes on a later visit); the others
  // are abandoned, some of them after starting checkout.
  const cart = s.cart;
  if (cart && cart.items.length > 0) {
    const checkout = cart.converts ? rng.chance(0.85) : rng.chance(0.3);
    if (checkout) {
      yield* visit('cart', '/cart', text(PAGE_TITLES.cart[s.lang]));
      const items: OrderItem[] = cart.items.map((it) => {
        const p = catalog.products[it.product]!;
        return { product_id: p.id, quantity: it.quantity, price: p.price, category: p.categoryPath };
      });
      const revenue = items.reduce((sum, it) => sum + it.price * it.quantity, 0);
      yield* visit('checkout', '/checkout', text(PAGE_TITLES.checkout[s.lang]));
      if (s.tracks)
        yield track('checkout_started', { cart_id: cart.id, products: items, revenue, currency: 'IDR' });
      if (cart.converts) {
        advance(page!.dwell);
        s.orders++;
        const orderId = `o${s.index.toString(36)}-${s.orders}`;
        const orderAt = s.now;
        yield {
          kind: 'order',
          at: orderAt,
          body: {
            messageId: rng.uuid(),
            anonymousId: s.anonymousId,
            ...(s.customerId && s.identified ? { userId: s.customerId } : {}),
            event: 'order_completed',
            properties: { order_id: orderId, cart_id: cart.id, products: items, revenue, currency: 'IDR' },
            timestamp: iso(orderAt),
          },
        };
        yield* visit('success', `/checkout/success?order=${orderId}`, text(PAGE_TITLES.success[s.lang]));
        for (const it of cart.items) {
          if (rng.chance(0.35))
            s.reviewsDue.push({
              product: it.product,
              orderId,
              after: orderAt + (2 + rng.int(0, 6)) * DAY_MS,
            });
        }
        s.cart = null;
      }
    }
    if (s.cart && !s.cart.converts) s.cart = null;
  }
  if (page) {
    const last: Page = page;
    s.now = Math.max(s.now, last.enteredAt + last.dwell);
    if (s.tracks) {
      const engaged = Math.round((s.now - last.enteredAt) * (0.45 + 0.5 * rng.next()));
      yield track('page_leave', { path: last.path, engaged_ms: engaged, scroll_depth: rng.int(10, 100) });
    }
  }
}

function lower(lang: Language, value: string): string {
  return lang === 'zh' ? value : value.toLowerCase();
}

/** Misspells a word the way thumbs do: a dropped, doubled or swapped letter. */
function misspell(rng: Rng, word: string): string {
  const chars = Array.from(word);
  if (chars.length < 4) return `${word}x`;
  const at = rng.int(1, chars.length - 2);
  const kind = rng.int(0, 2);
  if (kind === 0) chars.splice(at, 1);
  else if (kind === 1) chars.splice(at, 0, chars[at]!);
  else [chars[at], chars[at + 1]] = [chars[at + 1]!, chars[at]!];
  return chars.join('');
}

function searchQuery(env: Env, s: Shopper): { query: string; results: number[] } {
  const rng = s.rng;
  const { catalog } = env.index;
  // About one search in ten finds nothing: misspellings, or things the shop does not sell.
  if (rng.chance(0.1)) {
    if (s.lang !== 'zh' && rng.chance(0.6)) {
      const noun = TOP_CATEGORIES[rng.pick(s.interests)]!.subcategories;
      const word = lower(s.lang, rng.pick(rng.pick(noun).nouns)[s.lang]);
      return { query: `${misspell(rng, word)}${rng.chance(0.5) ? 'z' : 'q'}`, results: [] };
    }
    const q = rng.pick(UNSOLD_QUERIES[s.lang]);
    return { query: s.hant ? toTraditional(q) : q, results: [] };
  }
  const target = env.index.byRank[env.index.popularity.sample(rng)]!;
  const facts = catalog.facts[target]!;
  const top = TOP_CATEGORIES[facts.top]!;
  const noun = top.subcategories[facts.sub]!.nouns[facts.noun]!;
  const all = env.index.byNoun.get(nounKey(facts)) ?? [];
  const r = rng.next();
  const nounText = lower(s.lang, s.hant ? toTraditional(noun[s.lang]) : noun[s.lang]);
  if (r < 0.25) {
    const brand = catalog.products[target]!.brand;
    return {
      query: `${lower(s.lang, brand)} ${nounText}`,
      results: all.filter((i) => catalog.products[i]!.brand === brand),
    };
  }
  if (r < 0.4 && facts.adjective !== null) {
    const adjective = top.adjectives[facts.adjective]!;
    const adj = lower(s.lang, s.hant ? toTraditional(adjective[s.lang]) : adjective[s.lang]);
    return {
      query:
        s.lang === 'id' ? `${nounText} ${adj}` : s.lang === 'zh' ? `${adj}${nounText}` : `${adj} ${nounText}`,
      results: all.filter((i) => catalog.facts[i]!.adjective === facts.adjective),
    };
  }
  return { query: nounText, results: all };
}

function reviewText(env: Env, s: Shopper, product: number): { rating: number; text: string } {
  const rng = s.rng;
  const facts = env.index.catalog.facts[product]!;
  const noun = TOP_CATEGORIES[facts.top]!.subcategories[facts.sub]!.nouns[facts.noun]!;
  // Ratings in shops are J-shaped: mostly fives, a bump of ones.
  const rating = rng.weighted([
    [5, 0.52],
    [4, 0.22],
    [3, 0.1],
    [2, 0.06],
    [1, 0.1],
  ] as const);
  const sentiment = rating >= 4 ? 'positive' : rating === 3 ? 'neutral' : 'negative';
  const template = rng.pick(REVIEW_TEMPLATES[s.lang][sentiment]);
  const aspect = rng.pick(REVIEW_ASPECTS[s.lang][sentiment]);
  const nounText = s.lang === 'zh' ? noun.zh : noun[s.lang].toLowerCase();
  let text = template.replace('{noun}', nounText).replace('{aspect}', aspect).trim();
  if (s.lang !== 'zh') text = text.charAt(0).toUpperCase() + text.slice(1);
  return { rating, text: s.hant ? toTraditional(text) : text };
}

function traitsFor(s: Shopper): Traits {
  const rng = s.rng;
  const first = rng.pick(FIRST_NAMES[s.lang]);
  const last = rng.pick(LAST_NAMES[s.lang]);
  const [city, postalCode] = rng.pick(CITIES);
  const local = s.lang === 'zh' ? `shopper${s.index + 1}` : `${first}.${last}.${s.index + 1}`.toLowerCase();
  return {
    // Reserved test domain and a non-dialable number range: obviously fake, never a real person.
    email: `${local}@example.test`,
    phone: `+62 800-${String(s.index % 10_000_000).padStart(7, '0')}`,
    name: s.lang === 'zh' ? `${last}${first}` : `${first} ${last}`,
    firstName: first,
    lastName: last,
    address: { street: `${rng.pick(STREETS)} No. ${rng.int(1, 200)}`, city, postalCode, country: 'ID' },
  };
}
