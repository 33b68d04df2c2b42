/**
 * Serving: turns a request (surface, shopper, current item) into a short, filtered, diversified and
 * explained list from the current model version, and keeps that model fresh (train → save → hot-swap).
 *
 * Non-personalised mode: when the shopper has personalisation off or no consent, no history, feedback
 * or impressions are read — only popularity and item-to-item tables for the current page.
 */
import { Worker } from 'node:worker_threads';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import { createExpiringSet } from '../../kernel/expiring-set.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { ErasedSubjects } from '../privacy/index.ts';
import type { EventStore } from '../../storage/index.ts';
import { gini } from './algorithms/metrics.ts';
import { mmrRerankPool } from './algorithms/mmr.ts';
import { bagOf, topKAmong } from './algorithms/sparse.ts';
import type { History, Neighbours } from './algorithms/types.ts';
import {
  deserializeParts,
  modelFromParts,
  partsOf,
  serializeModel,
  trainServingModel,
  type ModelParts,
  type CatalogItem,
  type ServingModel,
  type TrainingEvent,
  type TrainOptions,
} from './serving-model.ts';
import type { RecommendStore } from './store.ts';
import { createFeedbackCache, NO_FEEDBACK, type FeedbackCacheConfig } from './feedback-cache.ts';
import { createHistoryCache, type HistoryCacheConfig, type HistoryRow } from './history-cache.ts';
import { createServingIndex, type ServingIndex } from './serving-index.ts';

export const SURFACES = ['for-you', 'similar', 'bought-together', 'session'] as const;
export type Surface = (typeof SURFACES)[number];

export type RecommendCatalog = {
  getProducts(ids: readonly string[]): Promise<CatalogItem[]>;
  listProducts(
    filter: Record<string, never>,
    options: { limit?: number; cursor?: string | undefined },
  ): Promise<{ items: CatalogItem[]; nextCursor: string | null }>;
  /**
   * Product changes made through this process, as they commit (the catalogue module offers it): live
   * stock is then kept in memory and a change is effective for the very next request.
   */
  onProductsChanged?(
    listener: (changed: readonly { id: string; active: boolean; stock: number }[]) => void,
  ): unknown;
};

export type RecommendServiceDeps = {
  store: RecommendStore;
  events: EventStore;
  catalog: RecommendCatalog;
  personalisation: { isPersonalised(subjectIds: readonly string[]): Promise<boolean> };
  /**
   * The shopper's interest tags as they see them in the privacy centre (profiles), and how a catalogue
   * category becomes a tag. Explaining with the tags ties each explanation to a control the shopper has:
   * a deleted tag stops boosting and explaining at once.
   */
  interests?: RecommendInterests;
  clock: Clock;
  logger: Logger;
  /**
   * Subjects erased lately by any process (privacy): their buffered impressions are not written, and
   * impressions written while an erasure ran elsewhere are erased again.
   */
  erased?: Pick<ErasedSubjects, 'among'>;
};

export type RecommendInterests = {
  of(subjectIds: readonly string[]): Promise<readonly { tag: string; score: number }[]>;
  tagOf(category: string): string;
};

export type RecommendConfig = {
  /** Events older than this are not used for training. */
  trainingWindowDays?: number;
  maxTrainingEvents?: number;
  /** Categories whose items may be recommended again after a purchase (consumables). */
  repurchasableCategories?: readonly string[];
  /** MMR trade-off: 1 = pure relevance, lower = more variety. */
  diversityLambda?: number;
  easeLambda?: number;
  maxDenseItems?: number;
  /** Train and decode stored models in a worker thread (default) so serving is not stalled; false: in the calling thread. */
  trainInWorker?: boolean;
  /** In-process per-shopper history cache (size, tail interval); its size also bounds the candidate cache. */
  historyCache?: HistoryCacheConfig;
  /** In-process per-shopper "not interested" cache (size, tail interval). */
  feedbackCache?: FeedbackCacheConfig;
};

/** Runs `train.worker.ts` (training, or decoding a stored artefact) off the serving thread. */
function inWorker<T>(data: unknown, transfer: ArrayBuffer[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./train.worker.ts', import.meta.url), {
      workerData: data,
      transferList: transfer,
    });
    worker.once('message', (m: T) => resolve(m));
    worker.once('error', (e) =>
      reject(
        new AppError('internal', 'Training the recommendation model failed; see the server log.', {
          cause: e,
        }),
      ),
    );
    worker.once('exit', (code) => {
      if (code !== 0)
        reject(new AppError('internal', `The recommendation training worker exited with code ${code}.`));
    });
  });
}

export type Reason = {
  kind: 'viewed' | 'bought_with' | 'similar' | 'popular' | 'session' | 'interest';
  en: string;
  id: string;
  zh: string;
};
export type RecommendedItem = { itemId: string; score: number; reason: Reason };
export type RecommendQuery = {
  surface: Surface;
  subjectIds: readonly string[];
  itemId?: string;
  limit: number;
  category?: string;
  brand?: string;
  /** Candidate list to re-rank (category page, search results). */
  candidates?: readonly string[];
  /** MMR trade-off for this request (1 = relevance only); default: the configured one. */
  diversityLambda?: number;
  /** Answer as for a shopper with personalisation off (the staff preview's comparison). */
  nonPersonalised?: boolean;
  /** A staff preview: no impressions or exposure are counted and no cache entry is dropped. */
  preview?: boolean;
};
export type RecommendResult = {
  surface: Surface;
  personalised: boolean;
  modelVersion: number;
  items: RecommendedItem[];
};

const titleOf = (m: ServingModel, i: number, lang: 'en' | 'id' | 'zh') => {
  const t = m.info[i]!.title;
  return t[lang] ?? t.en ?? t.id ?? t.zh ?? m.itemIds[i]!;
};

function reasonFor(
  kind: Reason['kind'],
  m: ServingModel,
  anchor: number | null,
  category: string | null,
  interest: string | null = null,
): Reason {
  const a = (l: 'en' | 'id' | 'zh') => (anchor === null ? '' : titleOf(m, anchor, l));
  const c = category ?? '';
  switch (kind) {
    case 'viewed':
      return {
        kind,
        en: `Because you viewed ${a('en')}`,
        id: `Karena Anda melihat ${a('id')}`,
        zh: `因为您浏览了${a('zh')}`,
      };
    case 'session':
      return {
        kind,
        en: `Because you are looking at ${a('en')}`,
        id: `Karena Anda sedang melihat ${a('id')}`,
        zh: `因为您正在浏览${a('zh')}`,
      };
    case 'bought_with':
      return {
        kind,
        en: `Often bought with ${a('en')}`,
        id: `Sering dibeli bersama ${a('id')}`,
        zh: `经常与${a('zh')}一起购买`,
      };
    case 'interest':
      return {
        kind,
        en: `Matches your interest “${interest ?? ''}”`,
        id: `Sesuai minat Anda “${interest ?? ''}”`,
        zh: `符合您的兴趣“${interest ?? ''}”`,
      };
    case 'similar':
      return { kind, en: `Similar to ${a('en')}`, id: `Mirip dengan ${a('id')}`, zh: `与${a('zh')}相似` };
    case 'popular':
      return c
        ? { kind, en: `Popular in ${c} this week`, id: `Populer di ${c} minggu ini`, zh: `本周${c}热门` }
        : { kind, en: 'Popular this week', id: 'Populer minggu ini', zh: '本周热门' };
  }
}

/** Per-request scratch, indexed by item (serving runs one request at a time between awaits). */
let scratchValues = new Float64Array(0);
let scratchMarks = new Uint8Array(0);
let scratchSlots = new Int32Array(0);
let scratchBestItem = new Int32Array(0);
let scratchBestValue = new Float64Array(0);
function ensureScratch(n: number) {
  if (scratchValues.length < n) {
    scratchValues = new Float64Array(n);
    scratchMarks = new Uint8Array(n);
    scratchSlots = new Int32Array(n).fill(-1);
    scratchBestItem = new Int32Array(n).fill(-1);
    scratchBestValue = new Float64Array(n);
  }
}

/** Accumulator for `accumulate` (separate from the request's scratch, which `add` may write to). */
let accValues = new Float64Array(0);
let accMarks = new Uint8Array(0);
const accTouched: number[] = [];

/** `w · (nb · bag) / max` over the items the bag's neighbour rows reach, into `add`. */
function accumulate(
  nb: Neighbours,
  bag: ReadonlyMap<number, number>,
  w: number,
  add: (item: number, value: number) => void,
  best?: { item: Int32Array; value: Float64Array },
) {
  if (accValues.length < nb.nItems) {
    accValues = new Float64Array(nb.nItems);
    accMarks = new Uint8Array(nb.nItems);
  }
  const acc = accValues;
  const marks = accMarks;
  const touched = accTouched;
  touched.length = 0;
  const { indptr, indices, values } = nb;
  for (const [j, wj] of bag) {
    if (j < 0 || j >= nb.nItems) continue;
    const end = indptr[j + 1]!;
    for (let p = indptr[j]!; p < end; p++) {
      const i = indices[p]!;
      const v = wj * values[p]!;
      if (marks[i] === 0) {
        marks[i] = 1;
        touched.push(i);
      }
      acc[i]! += v;
      // The explanation: the history item that contributes most to i (first one on ties).
      if (best !== undefined && v > best.value[i]!) {
        best.value[i] = v;
        best.item[i] = j;
      }
    }
  }
  let max = 0;
  for (let x = 0; x < touched.length; x++) if (acc[touched[x]!]! > max) max = acc[touched[x]!]!;
  const f = max > 0 ? w / max : 0;
  for (let x = 0; x < touched.length; x++) {
    const i = touched[x]!;
    if (f > 0 && acc[i]! > 0) add(i, f * acc[i]!);
    acc[i] = 0;
    marks[i] = 0;
  }
}

/** The history item that explains `target` through `nb` (forward, then the pair listed the other way). */
function anchorFor(nb: Neighbours, bag: ReadonlyMap<number, number>, target: number): number | undefined {
  let h = -1;
  let v = 0;
  for (const [j, w] of bag) {
    if (j < 0 || j >= nb.nItems) continue;
    for (let p = nb.indptr[j]!; p < nb.indptr[j + 1]!; p++)
      if (nb.indices[p] === target && w * nb.values[p]! > v) {
        v = w * nb.values[p]!;
        h = j;
      }
  }
  if (h >= 0) return h;
  if (target < 0 || target >= nb.nItems) return undefined;
  for (let p = nb.indptr[target]!; p < nb.indptr[target + 1]!; p++) {
    const w = bag.get(nb.indices[p]!);
    if (w !== undefined && w * nb.values[p]! > v) {
      v = w * nb.values[p]!;
      h = nb.indices[p]!;
    }
  }
  return h >= 0 ? h : undefined;
}

/**
 * What a shopper's history gives every "for you" request until the history or the model changes (the
 * per-shopper candidate cache): the distinct items with summed weights, what was bought, the last
 * session, and the best `CANDIDATES` items by history score with the item explaining each.
 */
type Derived = {
  readonly index: ServingIndex;
  readonly stamp: string;
  readonly length: number;
  readonly bag: ReadonlyMap<number, number>;
  readonly bought: ReadonlySet<number>;
  readonly sessionItems: readonly number[];
  /** Best-first; `complete` when every item the history reaches is in it. */
  readonly candidates: { items: Int32Array; scores: Float64Array; anchors: Int32Array; complete: boolean };
};
const CANDIDATES = 200;

export type RecommendService = ReturnType<typeof createRecommendService>;

export function createRecommendService(deps: RecommendServiceDeps, config: RecommendConfig = {}) {
  const { store, clock } = deps;
  let current: { version: number; model: ServingModel; index: ServingIndex } | null = null;
  const histories = createHistoryCache(deps.events, config.historyCache ?? {});
  const feedbackCache = createFeedbackCache(store, config.feedbackCache ?? {});
  const repurchasable = new Set(config.repurchasableCategories ?? []);
  const maxCandidateSubjects = config.historyCache?.maxSubjects ?? 20_000;

  // Live stock: product id → active and in stock, from the catalogue listing (at training, at a model
  // swap, and reconciled every `catalogSyncMs`) and from the catalogue's change notifications, which
  // make a change through this process effective for the very next request.
  let stock = new Map<string, boolean>();
  let stockLoaded = false;
  let stockChanges = 0;
  const changedDuringSync: { id: string; sellable: boolean }[] = [];
  let syncingStock = false;
  function applyStock(id: string, sellable: boolean) {
    stock.set(id, sellable);
    stockChanges++;
    if (syncingStock) changedDuringSync.push({ id, sellable });
    const ix = current?.index;
    const i = ix?.model.itemIndex.get(id);
    if (ix && i !== undefined) ix.sellable[i] = ix.model.info[i]!.inCatalog && sellable ? 1 : 0;
  }
  deps.catalog.onProductsChanged?.((changed) => {
    for (const p of changed) applyStock(p.id, p.active && p.stock > 0);
  });
  function stockFrom(products: readonly CatalogItem[]): Map<string, boolean> {
    return new Map(products.map((p) => [p.id, p.active && p.stock > 0]));
  }

  /** Installs a model version with its serving index (stock from the current snapshot). */
  function install(version: number, model: ServingModel) {
    current = { version, model, index: createServingIndex(model, version, stock) };
    derivedCache.clear();
  }

  async function loadTrainingEvents(
    exclude: readonly string[],
  ): Promise<{ events: TrainingEvent[]; asOf: number }> {
    const since = new Date(clock.now().getTime() - (config.trainingWindowDays ?? 180) * 86_400_000);
    let q = deps.events.db
      .selectFrom('events')
      .select(['subject_id', 'session_id', 'order_id', 'type', 'product_id', 'ts', 'received_at'])
      .where('product_id', 'is not', null)
      .where('ts', '>=', since);
    if (exclude.length > 0) q = q.where('subject_id', 'not in', exclude);
    const rows = await q
      .orderBy('ts', 'desc')
      .limit(config.maxTrainingEvents ?? 2_000_000)
      .execute();
    let asOf = 0;
    const events = rows.map((r) => {
      const received = new Date(r.received_at).getTime();
      if (received > asOf) asOf = received;
      return {
        subjectId: r.subject_id,
        sessionId: r.session_id,
        orderId: r.order_id,
        type: r.type,
        productId: r.product_id!,
        ts: new Date(r.ts).getTime(),
      };
    });
    return { events, asOf };
  }

  async function loadProducts(): Promise<CatalogItem[]> {
    const out: CatalogItem[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await deps.catalog.listProducts({}, { limit: 500, cursor });
      out.push(...page.items);
      if (!page.nextCursor) return out;
      cursor = page.nextCursor;
    }
  }

  /** Re-reads the whole catalogue's stock (changes made meanwhile through this process win). */
  async function syncStock(products?: readonly CatalogItem[]): Promise<void> {
    if (syncingStock && !products) return;
    const seenBefore = stockChanges;
    syncingStock = true;
    changedDuringSync.length = 0;
    try {
      const fresh = stockFrom(products ?? (await loadProducts()));
      if (stockChanges !== seenBefore) for (const c of changedDuringSync) fresh.set(c.id, c.sellable);
      stock = fresh;
      stockLoaded = true;
      const ix = current?.index;
      if (ix)
        ix.model.itemIds.forEach((id, i) => {
          ix.sellable[i] = ix.model.info[i]!.inCatalog && fresh.get(id) === true ? 1 : 0;
        });
    } finally {
      syncingStock = false;
      changedDuringSync.length = 0;
    }
  }

  // The per-shopper candidate cache (see `Derived`), keyed by the shopper's ids; an entry is valid for
  // one model version and one state of the shopper's history.
  const derivedCache = new Map<string, Derived>();
  let multiIdEntries = 0;

  function derive(ix: ServingIndex, rows: readonly HistoryRow[], stamp: string, cap: number): Derived {
    const m = ix.model;
    const bag = new Map<number, number>();
    const bought = new Set<number>();
    const lastSession = rows.at(-1)?.sessionId ?? null;
    const sessionItems: number[] = [];
    let length = 0;
    for (const r of rows) {
      const i = m.itemIndex.get(r.productId);
      if (i === undefined) continue;
      length++;
      bag.set(i, (bag.get(i) ?? 0) + (r.type === 'order_completed' ? 5 : r.type === 'add_to_cart' ? 3 : 1));
      if (r.type === 'order_completed' && !repurchasable.has(m.info[i]!.category ?? '')) bought.add(i);
      if (lastSession !== null && r.sessionId === lastSession) sessionItems.push(i);
    }
    const n = m.itemIds.length;
    ensureScratch(n);
    const values = scratchValues;
    const marks = scratchMarks;
    const touched: number[] = [];
    const add = (i: number, v: number) => {
      if (!marks[i]) {
        marks[i] = 1;
        touched.push(i);
      }
      values[i]! += v;
    };
    const best = { item: scratchBestItem, value: scratchBestValue };
    if (length > 0) {
      accumulate(m.collaborative, bag, 1, add, best);
      accumulate(m.similar, bag, 0.3, add);
    }
    const top = topKAmong(touched, values, cap);
    let positive = 0;
    for (const i of touched) if (values[i]! > 0) positive++;
    const candidates = {
      items: Int32Array.from(top),
      scores: Float64Array.from(top, (i) => values[i]!),
      anchors: Int32Array.from(top, (i) => best.item[i]!),
      complete: top.length === positive,
    };
    for (const i of touched) {
      values[i] = 0;
      marks[i] = 0;
      best.item[i] = -1;
      best.value[i] = 0;
    }
    return { index: ix, stamp, length, bag, bought, sessionItems, candidates };
  }

  async function derivedOf(ix: ServingIndex, subjectIds: readonly string[], exact: boolean) {
    const { rows, stamp } = await histories.snapshot(subjectIds);
    if (exact) return derive(ix, rows, stamp, Infinity);
    const key = subjectIds.join('\n');
    const cached = derivedCache.get(key);
    if (cached && cached.index === ix && cached.stamp === stamp) {
      derivedCache.delete(key);
      derivedCache.set(key, cached);
      return cached;
    }
    const d = derive(ix, rows, stamp, CANDIDATES);
    if (subjectIds.length > 1) multiIdEntries++;
    derivedCache.delete(key);
    derivedCache.set(key, d);
    while (derivedCache.size > maxCandidateSubjects) derivedCache.delete(derivedCache.keys().next().value!);
    return d;
  }

  /**
   * Builds every item's page-surface and diversity rows of a new version, a slice at a time so requests
   * keep being served in between (otherwise each is built by the first request that needs it).
   */
  async function warmIndex(ix: ServingIndex): Promise<void> {
    const n = ix.model.itemIds.length;
    for (let i = 0; i < n; i++) {
      if (current?.index !== ix) return;
      ix.pageRow('similar', i);
      ix.pageRow('bought-together', i);
      ix.diversityRow(i);
      if (i % 256 === 255) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Computes the candidate lists of shoppers whose histories are in memory (after training: the offline
   * cache), a few at a time so requests keep being served in between.
   */
  async function warmCandidates(subjectIds: readonly string[]): Promise<number> {
    let warmed = 0;
    for (let x = 0; x < subjectIds.length; x += 64) {
      const ix = current?.index;
      if (!ix) return warmed;
      for (const id of subjectIds.slice(x, x + 64)) {
        if (!histories.has(id)) continue;
        await derivedOf(ix, [id], false);
        warmed++;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return warmed;
  }

  /** Tag per catalogue category, as profiles name it (asked once per category). */
  const tagOfCategory = new Map<string, string>();
  function tagOf(category: string): string {
    let t = tagOfCategory.get(category);
    if (t === undefined) {
      t = deps.interests!.tagOf(category);
      tagOfCategory.set(category, t);
    }
    return t;
  }

  /**
   * MMR's similarity among the pool: the larger of behaviour and content similarity, either direction,
   * read from the picked item's (cached) diversity row, so only the ≤ limit picked items cost anything.
   */
  function poolSimilarity(ix: ServingIndex, pool: readonly number[]) {
    return (x: number, visit: (y: number, similarity: number) => void) => {
      const at = scratchSlots;
      pool.forEach((item, y) => (at[item] = y));
      const row = ix.diversityRow(pool[x]!);
      for (let p = 0; p < row.items.length; p++) {
        const y = at[row.items[p]!]!;
        if (y >= 0) visit(y, row.scores[p]!);
      }
      for (const item of pool) at[item] = -1;
    };
  }

  /**
   * For each recommended item, the history item that contributes most to it through a table (the
   * explanation). One pass over the distinct history items' neighbour rows, not history × items lookups.
   */
  function anchorsOf(nb: Neighbours, history: History, targets: readonly number[]): Map<number, number> {
    const bag = bagOf(history);
    const out = new Map<number, number>();
    for (const t of targets) {
      const h = anchorFor(nb, bag, t);
      if (h !== undefined) out.set(t, h);
    }
    return out;
  }

  // Impressions are written in batches (not one write per request); the module flushes on a timer (every
  // second) and on stop, and a large backlog is flushed at once. A flush is written in slices of 200 rows
  // with a turn of the event loop between them, so requests are not held for the whole write (see
  // store.recordImpressions). Reads come from an in-process count per shopper (loaded once from the
  // store, the misses of requests arriving together in one query, then kept current as lists are shown),
  // so serving never waits for a write. Counts are reloaded after `impressionMaxAgeMs` to pick up lists
  // shown by other serving processes.
  let pending = new Map<string | null, string[][]>();
  let pendingCount = 0;
  let flushing: Promise<void> | null = null;
  const impressionMaxAgeMs = 60_000;
  const impressionCounts = new Map<string, { at: number; shown: Map<string, number> }>();
  // Shoppers erased in this process lately: a request that began before the erasure and finishes after it
  // must not record their impressions again. Ten minutes is far longer than any request is served.
  const erasedLately = createExpiringSet(10 * 60 * 1000, () => performance.now());
  function bufferImpressions(subjectId: string | null, itemIds: string[]) {
    if (itemIds.length === 0 || erasedLately.has(subjectId)) return;
    const list = pending.get(subjectId);
    if (list) list.push(itemIds);
    else pending.set(subjectId, [itemIds]);
    const counts = subjectId === null ? undefined : impressionCounts.get(subjectId);
    if (counts) for (const id of itemIds) counts.shown.set(id, (counts.shown.get(id) ?? 0) + 1);
    if (++pendingCount >= 5_000)
      void service.flush().catch((e: unknown) => deps.logger.warn({ err: e }, 'impression flush failed'));
  }
  async function loadImpressions(ids: readonly string[]): Promise<void> {
    const at = performance.now();
    const rows = await store.impressionsOf(ids);
    const fresh = new Map(ids.map((id) => [id, new Map<string, number>()]));
    for (const r of rows) {
      const shown = fresh.get(r.subject_id)!;
      shown.set(r.item_id, (shown.get(r.item_id) ?? 0) + Number(r.shown));
    }
    for (const [id, shown] of fresh) {
      // Lists shown but not yet written are not in the store: count them too.
      for (const list of pending.get(id) ?? [])
        for (const item of list) shown.set(item, (shown.get(item) ?? 0) + 1);
      impressionCounts.delete(id);
      impressionCounts.set(id, { at, shown });
    }
    while (impressionCounts.size > 20_000) impressionCounts.delete(impressionCounts.keys().next().value!);
  }
  let impressionBatch: { ids: Set<string>; done: Promise<void> } | null = null;
  function loadImpressionsBatched(ids: readonly string[]): Promise<void> {
    if (!impressionBatch) {
      const batch = { ids: new Set<string>(), done: Promise.resolve() };
      batch.done = new Promise<void>((resolve, reject) =>
        setImmediate(() => {
          if (impressionBatch === batch) impressionBatch = null;
          loadImpressions([...batch.ids]).then(resolve, reject);
        }),
      );
      impressionBatch = batch;
    }
    for (const id of ids) impressionBatch.ids.add(id);
    return impressionBatch.done;
  }
  const NO_IMPRESSIONS: ReadonlyMap<string, number> = new Map();
  async function impressionsOf(subjectIds: readonly string[]): Promise<ReadonlyMap<string, number>> {
    const now = performance.now();
    const stale = subjectIds.filter((id) => {
      const c = impressionCounts.get(id);
      return !c || now - c.at > impressionMaxAgeMs;
    });
    if (stale.length > 0) await loadImpressionsBatched(stale);
    if (subjectIds.length === 1) return impressionCounts.get(subjectIds[0]!)?.shown ?? NO_IMPRESSIONS;
    const out = new Map<string, number>();
    for (const id of subjectIds)
      for (const [item, n] of impressionCounts.get(id)?.shown ?? []) out.set(item, (out.get(item) ?? 0) + n);
    return out;
  }
  let rulesCache: { at: number; rules: Awaited<ReturnType<RecommendStore['rules']>> } | null = null;
  async function rules() {
    // Rules change rarely; other processes see a change within 30 s.
    if (
      !rulesCache ||
      clock.now().getTime() - rulesCache.at > 30_000 ||
      clock.now().getTime() < rulesCache.at
    )
      rulesCache = { at: clock.now().getTime(), rules: await store.rules() };
    return rulesCache.rules;
  }

  /** Drops everything held in memory about the shoppers (erasure, personalisation off). */
  function forget(subjectIds: readonly string[], thorough = false) {
    histories.invalidate(subjectIds);
    feedbackCache.invalidate(subjectIds);
    for (const id of subjectIds) {
      impressionCounts.delete(id);
      derivedCache.delete(id);
    }
    derivedCache.delete(subjectIds.join('\n'));
    // Entries for several ids at once (a device and a customer) are rare: scan only when there are some.
    if (thorough || multiIdEntries > 0)
      for (const key of derivedCache.keys())
        if (key.includes('\n') && key.split('\n').some((id) => subjectIds.includes(id)))
          derivedCache.delete(key);
  }

  const NO_HISTORY: Omit<Derived, 'index'> = {
    stamp: '',
    length: 0,
    bag: new Map(),
    bought: new Set(),
    sessionItems: [],
    candidates: {
      items: new Int32Array(0),
      scores: new Float64Array(0),
      anchors: new Int32Array(0),
      complete: true,
    },
  };

  /**
   * One flush's write. Shoppers another process erased since their lists were shown are left out; and
   * since an erasure there may have deleted while this write was under way, those it wrote are asked
   * about again after it committed, and their rows go (erased-subjects.ts in privacy says why that is
   * enough).
   */
  async function writeImpressions(batch: Map<string | null, string[][]>): Promise<void> {
    const erased = deps.erased;
    if (erased) {
      const before = await erased.among(batch.keys());
      for (const id of before) batch.delete(id);
      if (before.size > 0) forgetErased(before);
    }
    await store.recordImpressions(batch, clock.now().getTime());
    if (erased) {
      const after = await erased.among(batch.keys());
      if (after.size > 0) {
        forgetErased(after);
        await store.eraseSubject([...after]);
      }
    }
  }
  function forgetErased(subjectIds: ReadonlySet<string>): void {
    erasedLately.add(subjectIds);
    forget([...subjectIds], true);
  }

  const service = {
    async flush(): Promise<void> {
      // One flush at a time: a flush writes in several transactions (store.recordImpressions), and an
      // erasure or export waits for the one in flight (see erase).
      while (flushing) await flushing.catch(() => undefined);
      if (pending.size === 0) return;
      const batch = pending;
      pending = new Map();
      pendingCount = 0;
      flushing = writeImpressions(batch).finally(() => (flushing = null));
      await flushing;
    },

    get modelVersion() {
      return current?.version ?? 0;
    },

    /** Trains a new version from the event store and catalogue, saves it and swaps it in. */
    async train(options: { excludeSubjects?: readonly string[] } = {}) {
      const { events, asOf } = await loadTrainingEvents(options.excludeSubjects ?? []);
      const products = await loadProducts();
      const trainOptions: TrainOptions = {
        now: clock.now().getTime(),
        ...(config.easeLambda !== undefined ? { easeLambda: config.easeLambda } : {}),
        ...(config.maxDenseItems !== undefined ? { maxDenseItems: config.maxDenseItems } : {}),
      };
      // The worker hands back the artefact to store and the model itself (transferred typed arrays), so
      // the serving thread neither decompresses nor decodes anything to swap it in.
      const { bytes, stats, parts } =
        config.trainInWorker === false
          ? (() => {
              const m = trainServingModel(events, products, trainOptions);
              return { bytes: serializeModel(m), stats: m.stats, parts: partsOf(m).parts };
            })()
          : await inWorker<{ bytes: Uint8Array; stats: ServingModel['stats']; parts: ModelParts }>({
              mode: 'train',
              events,
              products,
              options: trainOptions,
            });
      const version = await store.saveModel(bytes, stats, clock.now().getTime());
      const model = modelFromParts(parts);
      await syncStock(products);
      install(version, model);
      deps.logger.info({ version, ...model.stats }, 'recommendation model trained');
      // The training read has every recent shopper's events: warm the history cache with them, then
      // compute their candidate lists (the offline cache), so their first requests do no scoring.
      await histories
        .prefill(events, asOf)
        .catch((e: unknown) => deps.logger.warn({ err: e }, 'history cache warm-up failed'));
      const recent = [...new Set(events.map((e) => e.subjectId))].slice(0, maxCandidateSubjects);
      const index = current!.index;
      const warming = warmIndex(index)
        .then(() => warmCandidates(recent))
        .catch((e: unknown) => {
          deps.logger.warn({ err: e }, 'candidate cache warm-up failed');
          return 0;
        });
      // An erasure's receipt waits for the retrain, not for the warm-up (it goes on in the background).
      if (!options.excludeSubjects?.length) await warming;
      return { version, stats };
    },

    /** Loads a newer version saved by another process (hot swap); cheap when none is newer. */
    async refresh(): Promise<number> {
      const latest = await store.latestVersion();
      if (latest > (current?.version ?? 0)) {
        const bytes = await store.loadModel(latest);
        if (bytes) {
          const parts =
            config.trainInWorker === false
              ? deserializeParts(bytes)
              : (
                  await inWorker<{ parts: ModelParts }>({ mode: 'load', bytes }, [
                    bytes.buffer as ArrayBuffer,
                  ])
                ).parts;
          if (!stockLoaded) await syncStock();
          // Another refresh or a training may have installed a newer version meanwhile.
          if (latest > (current?.version ?? 0)) {
            install(latest, modelFromParts(parts));
            void warmIndex(current!.index).catch((e: unknown) =>
              deps.logger.warn({ err: e }, 'serving index warm-up failed'),
            );
          }
        }
      }
      return current?.version ?? 0;
    },

    /** Re-reads live stock from the catalogue (the module runs it on a timer for other processes' changes). */
    syncCatalog: () => syncStock(),

    async recommend(q: RecommendQuery): Promise<RecommendResult> {
      if (!current) await service.refresh();
      if (!current) await service.train();
      if ((q.surface === 'similar' || q.surface === 'bought-together') && q.itemId === undefined)
        throw new AppError('invalid_request', `surface=${q.surface} needs itemId (the product on the page).`);
      const personalised =
        q.nonPersonalised !== true &&
        q.subjectIds.length > 0 &&
        (await deps.personalisation.isPersonalised(q.subjectIds));
      // Personalisation off: nothing of the shopper's history stays in memory either.
      if (!personalised && q.subjectIds.length > 0 && q.nonPersonalised !== true) forget(q.subjectIds);
      const ix = current!.index;
      const poolSize = Math.max(q.limit * 4, 40);
      const exact = q.candidates !== undefined || poolSize > CANDIDATES;
      const [ctx, feedback, impressions, tags, shopRules] = await Promise.all([
        personalised ? derivedOf(ix, q.subjectIds, exact) : { index: ix, ...NO_HISTORY },
        personalised ? feedbackCache.of(q.subjectIds) : NO_FEEDBACK,
        personalised ? impressionsOf(q.subjectIds) : NO_IMPRESSIONS,
        personalised && q.surface === 'for-you' && deps.interests ? deps.interests.of(q.subjectIds) : [],
        rules(),
      ]);
      // A swap while this request waited: answer from the version its history was derived for.
      const { model: m, version } = ix;
      const n = m.itemIds.length;
      const anchor = q.itemId !== undefined ? m.itemIndex.get(q.itemId) : undefined;
      ensureScratch(n);

      // Interest tags ("for you" only, only while personalised): category → tag and its weight.
      const interestOf = new Map<string, { tag: string; value: number }>();
      if (tags.length > 0 && deps.interests) {
        const scoreOf = new Map(tags.map((t) => [t.tag, t.score]));
        let max = 0;
        for (const c of ix.byCategory.keys()) {
          const score = scoreOf.get(tagOf(c));
          if (score !== undefined) {
            interestOf.set(c, { tag: tagOf(c), value: score });
            if (score > max) max = score;
          }
        }
        if (max > 0) for (const v of interestOf.values()) v.value = v.value > 0 ? (0.3 * v.value) / max : 0;
        else interestOf.clear();
      }

      // Exclusions, checked only on the items a request touches.
      const allowed = q.candidates
        ? new Set(q.candidates.map((id) => m.itemIndex.get(id)).filter((i): i is number => i !== undefined))
        : null;
      const notItems = new Set<number>();
      for (const id of feedback.items) {
        const i = m.itemIndex.get(id);
        if (i !== undefined) notItems.add(i);
      }
      const notCategories = feedback.categories;
      const sellable = ix.sellable;
      const blocked = (i: number) => {
        if (!sellable[i] || i === anchor || ctx.bought.has(i) || notItems.has(i)) return true;
        if (allowed && !allowed.has(i)) return true;
        const info = m.info[i]!;
        return (
          (q.category !== undefined && info.category !== q.category) ||
          (q.brand !== undefined && info.brand !== q.brand) ||
          (info.category !== null && notCategories.has(info.category))
        );
      };

      // Scores live in scratch arrays for the touched items only. An item's first touch gives it the
      // part of its score every item has (popularity, interest tag), so untouched items never need one.
      const values = scratchValues;
      const marks = scratchMarks;
      const touched: number[] = [];
      const popWeight = q.surface === 'for-you' ? 0.05 : q.surface === 'session' ? 0.02 : 0;
      const base = (i: number) => {
        let v = popWeight * ix.popularityNorm[i]!;
        if (interestOf.size > 0) {
          const c = m.info[i]!.category;
          const t = c === null ? undefined : interestOf.get(c);
          if (t) v += t.value;
        }
        return v;
      };
      const add = (i: number, v: number) => {
        if (!marks[i]) {
          marks[i] = 1;
          touched.push(i);
          values[i] = base(i);
        }
        values[i]! += v;
      };
      /** Touches items of `list` in order until `want` unblocked ones were seen. */
      const walk = (list: ArrayLike<number>, want: number) => {
        let seen = 0;
        for (let x = 0; x < list.length && seen < want; x++) {
          const i = list[x]!;
          if (blocked(i)) continue;
          add(i, 0);
          seen++;
        }
      };
      // Where items without a history score come from: the shop's list, the asked category, or all.
      const universe: ArrayLike<number> = allowed
        ? Int32Array.from(allowed).sort((a, b) => ix.popularityNorm[b]! - ix.popularityNorm[a]! || a - b)
        : q.category !== undefined
          ? (ix.byCategory.get(q.category) ?? new Int32Array(0))
          : ix.popularOrder;

      let mainTable: Neighbours = m.collaborative;
      let mainKind: Reason['kind'] = 'viewed';
      let sessionHistory: History | null = null;
      if (q.surface === 'for-you') {
        const c = ctx.candidates;
        for (let x = 0; x < c.items.length; x++) add(c.items[x]!, c.scores[x]!);
        // Items no history reaches compete on popularity and interest tags: the best of those suffice.
        walk(universe, 2 * poolSize);
        if (!allowed && q.category === undefined)
          for (const cat of interestOf.keys()) walk(ix.byCategory.get(cat)!, 2 * poolSize);
      } else if (q.surface === 'similar' || q.surface === 'bought-together') {
        if (anchor !== undefined) {
          const row = ix.pageRow(q.surface, anchor);
          for (let x = 0; x < row.items.length; x++) add(row.items[x]!, row.scores[x]!);
        }
        [mainTable, mainKind] =
          q.surface === 'similar' ? [m.similar, 'similar'] : [m.boughtTogether, 'bought_with'];
      } else {
        const session: History =
          ctx.sessionItems.length > 0
            ? { items: ctx.sessionItems, weights: ctx.sessionItems.map(() => 1) }
            : anchor !== undefined
              ? { items: [anchor], weights: [1] }
              : { items: [], weights: [] };
        if (session.items.length > 0) {
          const s = m.vsknn.score(session);
          let max = 0;
          for (let i = 0; i < s.length; i++) if (s[i]! > max) max = s[i]!;
          if (max > 0) for (let i = 0; i < s.length; i++) if (s[i]! > 0) add(i, s[i]! / max);
          accumulate(m.rules, new Map([[session.items.at(-1)!, 1]]), 0.5, add);
        }
        walk(universe, 2 * poolSize);
        [mainTable, mainKind, sessionHistory] = [m.rules, 'session', session];
      }
      // Items shown again and again without a click lose weight.
      for (const [itemId, shown] of impressions) {
        if (shown <= 3) continue;
        const i = m.itemIndex.get(itemId);
        if (i !== undefined && marks[i]) values[i] = values[i]! * Math.pow(0.8, shown - 3);
      }
      const pins: number[] = [];
      for (const r of shopRules) {
        if (r.surface !== null && r.surface !== q.surface) continue;
        const i = m.itemIndex.get(r.item_id);
        if (i === undefined) continue;
        if (r.kind === 'boost') {
          add(i, 0);
          values[i] = (values[i]! + 0.01) * r.factor;
        } else if (r.kind === 'bury') {
          if (marks[i]) values[i] = values[i]! * r.factor;
        } else if (r.kind === 'pin' && !blocked(i)) pins.push(i);
      }
      const pool = topKAmong(touched, values, poolSize, blocked);
      const poolScores = pool.map((i) => values[i]!);
      if (pool.length < poolSize) {
        // Cold start (new shop, new shopper, new item): fill with popular items, then any sellable item.
        const inPool = new Set(pool);
        for (let x = 0; x < universe.length && pool.length < poolSize; x++) {
          const i = universe[x]!;
          if (inPool.has(i) || blocked(i)) continue;
          pool.push(i);
          poolScores.push(0);
        }
      }
      const pinScores = pins.map((i) => (marks[i] ? values[i]! : base(i)));
      for (const i of touched) {
        values[i] = 0;
        marks[i] = 0;
      }
      const order = mmrRerankPool(
        Float64Array.from(poolScores),
        q.limit,
        q.diversityLambda ?? config.diversityLambda ?? 0.8,
        poolSimilarity(ix, pool),
      );
      let ranked = order.map((x) => ({ item: pool[x]!, score: poolScores[x]! }));
      if (pins.length > 0) {
        ranked = [
          ...pins.map((i, x) => ({ item: i, score: pinScores[x]! })),
          ...ranked.filter((r) => !pins.includes(r.item)),
        ].slice(0, q.limit);
      }
      // Explanations: the history item (or the page item) each recommendation comes from.
      const hasHistory =
        q.surface === 'for-you'
          ? ctx.length > 0
          : q.surface === 'session'
            ? sessionHistory!.items.length > 0
            : anchor !== undefined;
      const sessionAnchors =
        q.surface === 'session' && hasHistory
          ? anchorsOf(
              mainTable,
              sessionHistory!,
              ranked.map((r) => r.item),
            )
          : null;
      const cached = new Map<number, number>();
      if (q.surface === 'for-you') {
        const c = ctx.candidates;
        for (let x = 0; x < c.items.length; x++)
          if (c.anchors[x]! >= 0) cached.set(c.items[x]!, c.anchors[x]!);
      }
      const anchorOf = (item: number): number | undefined => {
        if (q.surface === 'for-you') return cached.get(item) ?? anchorFor(mainTable, ctx.bag, item);
        if (sessionAnchors) return sessionAnchors.get(item);
        return anchor;
      };
      const items = ranked.map(({ item, score }) => {
        // A filler from the cold-start fallback (score 0) is explained as popular, not as similar.
        const a = score > 0 && hasHistory ? (anchorOf(item) ?? anchor ?? null) : null;
        // An item in one of the shopper's interest tags is explained by that tag (the control they can
        // delete in the privacy centre); otherwise by its anchor item, else as popular.
        const c = m.info[item]!.category;
        const interest = score > 0 && c !== null ? (interestOf.get(c)?.tag ?? null) : null;
        const kind: Reason['kind'] = interest !== null ? 'interest' : a === null ? 'popular' : mainKind;
        return {
          itemId: m.itemIds[item]!,
          score: Math.round(score * 1e6) / 1e6,
          reason: reasonFor(kind, m, a, c, interest),
        };
      });
      // A staff preview is not an impression: it must not skew exposure, fairness or the shopper's list.
      if (q.preview !== true)
        bufferImpressions(
          personalised ? q.subjectIds[0]! : null,
          items.map((i) => i.itemId),
        );
      return { surface: q.surface, personalised, modelVersion: version, items };
    },

    async putRule(r: {
      id: string;
      kind: 'pin' | 'boost' | 'bury';
      itemId: string;
      surface: Surface | null;
      factor: number;
    }) {
      await store.putRule({
        id: r.id,
        kind: r.kind,
        item_id: r.itemId,
        surface: r.surface,
        factor: r.factor,
        created_at: clock.now().getTime(),
      });
      rulesCache = null;
    },

    async notInterested(subjectIds: readonly string[], target: { itemId?: string; category?: string }) {
      if (subjectIds.length === 0)
        throw new AppError('invalid_request', 'Pass userId or anonymousId: feedback belongs to a shopper.');
      const now = clock.now().getTime();
      if (target.itemId) {
        await store.addFeedback(subjectIds[0]!, 'item', target.itemId, now);
        feedbackCache.add(subjectIds[0]!, 'item', target.itemId);
      }
      if (target.category) {
        await store.addFeedback(subjectIds[0]!, 'category', target.category, now);
        feedbackCache.add(subjectIds[0]!, 'category', target.category);
      }
    },

    /** Exposure by brand and price band against their share of the catalogue, Gini over items, new items' share. */
    async fairness(days: number) {
      if (!current) await service.refresh();
      await service.flush();
      const since = new Date(clock.now().getTime() - days * 86_400_000).toISOString().slice(0, 10);
      const exposure = await store.exposureSince(since);
      const products = await loadProducts();
      const shown = new Map(exposure.map((e) => [e.item_id, Number(e.shown)]));
      const total = [...shown.values()].reduce((a, b) => a + b, 0);
      const prices = products.map((p) => p.price).sort((a, b) => a - b);
      const q = (f: number) => prices[Math.floor(f * (prices.length - 1))] ?? 0;
      const bands = [q(0.25), q(0.5), q(0.75)];
      const bandOf = (price: number) =>
        price <= bands[0]!
          ? 'low'
          : price <= bands[1]!
            ? 'mid-low'
            : price <= bands[2]!
              ? 'mid-high'
              : 'high';
      const group = (keyOf: (p: CatalogItem) => string) => {
        const out: Record<string, { exposureShare: number; catalogueShare: number }> = {};
        for (const p of products) {
          const k = keyOf(p);
          out[k] ??= { exposureShare: 0, catalogueShare: 0 };
          out[k].catalogueShare += 1 / products.length;
          out[k].exposureShare += total > 0 ? (shown.get(p.id) ?? 0) / total : 0;
        }
        for (const v of Object.values(out)) {
          v.exposureShare = Math.round(v.exposureShare * 1e4) / 1e4;
          v.catalogueShare = Math.round(v.catalogueShare * 1e4) / 1e4;
        }
        return out;
      };
      const known = current?.model.itemIndex;
      const newItems = products.filter(
        (p) =>
          !known ||
          !current!.model.info[known.get(p.id) ?? -1]?.inCatalog ||
          (current!.model.popularity[known.get(p.id)!] ?? 0) === 0,
      );
      const newExposure = newItems.reduce((a, p) => a + (shown.get(p.id) ?? 0), 0);
      return {
        days,
        impressions: total,
        giniItems: Math.round(gini(products.map((p) => shown.get(p.id) ?? 0)) * 1e4) / 1e4,
        byBrand: group((p) => p.brand ?? '(none)'),
        byPriceBand: group((p) => bandOf(p.price)),
        priceBands: { lowMax: bands[0]!, midLowMax: bands[1]!, midHighMax: bands[2]! },
        newItems: {
          count: newItems.length,
          exposureShare: total > 0 ? Math.round((newExposure / total) * 1e4) / 1e4 : 0,
        },
      };
    },

    async exportSubject(subjectIds: readonly string[]) {
      await service.flush();
      return store.exportSubject(subjectIds);
    },

    /**
     * Erasure: deletes the shopper's feedback and impressions, retrains without their events and drops
     * every older model version, so nothing of theirs remains in models or caches when this resolves.
     */
    async erase(subjectIds: readonly string[]): Promise<number> {
      erasedLately.add(subjectIds);
      for (const id of subjectIds) pending.delete(id);
      forget(subjectIds, true);
      // A flush in flight may still hold the shopper's impressions: they are written before the delete,
      // never after it.
      while (flushing) await flushing.catch(() => undefined);
      for (const id of subjectIds) pending.delete(id);
      const deleted = await store.eraseSubject(subjectIds);
      const hadModel = (await store.latestVersion()) > 0;
      if (hadModel) {
        const { version } = await service.train({ excludeSubjects: subjectIds });
        await store.deleteModelsBefore(version);
      }
      // Again after the retrain: a request that read the events before they were deleted may have cached them.
      forget(subjectIds, true);
      return deleted;
    },
  };
  return service;
}
