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
import type { Logger } from '../../kernel/logger.ts';
import type { EventStore } from '../../storage/index.ts';
import { gini } from './algorithms/metrics.ts';
import { mmrRerank } from './algorithms/mmr.ts';
import { bagOf, topK } from './algorithms/sparse.ts';
import type { History, Neighbours } from './algorithms/types.ts';
import {
  deserializeModel,
  serializeModel,
  trainServingModel,
  type CatalogItem,
  type ServingModel,
  type TrainingEvent,
  type TrainOptions,
} from './serving-model.ts';
import type { RecommendStore } from './store.ts';
import { createHistoryCache, type HistoryCacheConfig } from './history-cache.ts';

export const SURFACES = ['for-you', 'similar', 'bought-together', 'session'] as const;
export type Surface = (typeof SURFACES)[number];

export type RecommendCatalog = {
  getProducts(ids: readonly string[]): Promise<CatalogItem[]>;
  listProducts(
    filter: Record<string, never>,
    options: { limit?: number; cursor?: string | undefined },
  ): Promise<{ items: CatalogItem[]; nextCursor: string | null }>;
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
  /** Train in a worker thread (default) so serving is not stalled; false trains in the calling thread. */
  trainInWorker?: boolean;
  /** In-process per-shopper history cache (size, tail interval). */
  historyCache?: HistoryCacheConfig;
};

function trainInWorker(
  events: TrainingEvent[],
  products: CatalogItem[],
  options: TrainOptions,
): Promise<{ bytes: Uint8Array; stats: ServingModel['stats'] }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./train.worker.ts', import.meta.url), {
      workerData: { events, products, options },
    });
    worker.once('message', (m: { bytes: Uint8Array; stats: ServingModel['stats'] }) => resolve(m));
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

/** Adds `s` scaled to a maximum of `w` into `out` (indexed loops: this runs on every request). */
function addInto(out: Float64Array, s: Float64Array, w: number) {
  let max = 0;
  for (let i = 0; i < s.length; i++) if (s[i]! > max) max = s[i]!;
  if (!(max > 0)) return;
  const f = w / max;
  for (let i = 0; i < out.length; i++) {
    const v = s[i]!;
    if (v > 0) out[i]! += f * v;
  }
}

/** Scratch buffers for `addNeighbours` (serving runs one request at a time between awaits). */
let scratch = new Float64Array(0);
let marks = new Uint8Array(0);

/**
 * `addInto(out, scoreFromNeighbours(nb, history), w)` without a full-length array per call: only the
 * items the history's neighbour rows reach are touched, scaled and cleared.
 */
function addNeighbours(out: Float64Array, nb: Neighbours, history: History, w: number) {
  if (scratch.length < nb.nItems) {
    scratch = new Float64Array(nb.nItems);
    marks = new Uint8Array(nb.nItems);
  }
  const touched: number[] = [];
  for (let h = 0; h < history.items.length; h++) {
    const j = history.items[h]!;
    const wj = history.weights[h] ?? 1;
    if (j < 0 || j >= nb.nItems) continue;
    for (let p = nb.indptr[j]!; p < nb.indptr[j + 1]!; p++) {
      const i = nb.indices[p]!;
      if (!marks[i]) {
        marks[i] = 1;
        touched.push(i);
      }
      scratch[i]! += wj * nb.values[p]!;
    }
  }
  let max = 0;
  for (const i of touched) if (scratch[i]! > max) max = scratch[i]!;
  const f = max > 0 ? w / max : 0;
  for (const i of touched) {
    if (f > 0 && scratch[i]! > 0) out[i]! += f * scratch[i]!;
    scratch[i] = 0;
    marks[i] = 0;
  }
}

export type RecommendService = ReturnType<typeof createRecommendService>;

export function createRecommendService(deps: RecommendServiceDeps, config: RecommendConfig = {}) {
  const { store, clock } = deps;
  let current: { version: number; model: ServingModel } | null = null;
  const histories = createHistoryCache(deps.events, config.historyCache ?? {});
  const repurchasable = new Set(config.repurchasableCategories ?? []);

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

  async function historyOf(
    subjectIds: readonly string[],
  ): Promise<{ history: History; bought: Set<number>; sessionItems: number[] }> {
    const m = current!.model;
    const rows = await histories.rowsOf(subjectIds);
    const items: number[] = [];
    const weights: number[] = [];
    const bought = new Set<number>();
    const lastSession = rows.at(-1)?.sessionId ?? null;
    const sessionItems: number[] = [];
    for (const r of rows) {
      const i = m.itemIndex.get(r.productId);
      if (i === undefined) continue;
      items.push(i);
      weights.push(r.type === 'order_completed' ? 5 : r.type === 'add_to_cart' ? 3 : 1);
      if (r.type === 'order_completed' && !repurchasable.has(m.info[i]!.category ?? '')) bought.add(i);
      if (lastSession !== null && r.sessionId === lastSession) sessionItems.push(i);
    }
    return { history: { items, weights }, bought, sessionItems };
  }

  /**
   * For each recommended item, the history item that contributes most to it through a table (the
   * explanation). One pass over the distinct history items' neighbour rows, not history × items lookups.
   */
  function anchorsOf(nb: Neighbours, history: History, targets: readonly number[]): Map<number, number> {
    const best = new Map<number, { h: number; v: number }>();
    for (const t of targets) best.set(t, { h: -1, v: 0 });
    for (const [h, w] of bagOf(history)) {
      if (h < 0 || h >= nb.nItems) continue;
      for (let p = nb.indptr[h]!; p < nb.indptr[h + 1]!; p++) {
        const b = best.get(nb.indices[p]!);
        if (b && w * nb.values[p]! > b.v) {
          b.v = w * nb.values[p]!;
          b.h = h;
        }
      }
    }
    const out = new Map<number, number>();
    const bag = bagOf(history);
    for (const [t, b] of best) {
      if (b.h >= 0) {
        out.set(t, b.h);
        continue;
      }
      // The table may list the pair the other way round (item → history item).
      let h = -1;
      let v = 0;
      for (let p = nb.indptr[t]!; p < nb.indptr[t + 1]!; p++) {
        const w = bag.get(nb.indices[p]!);
        if (w !== undefined && w * nb.values[p]! > v) {
          v = w * nb.values[p]!;
          h = nb.indices[p]!;
        }
      }
      if (h >= 0) out.set(t, h);
    }
    return out;
  }

  /**
   * Pairwise similarity (the larger of behaviour and content) among the short MMR candidate list, read
   * once from each candidate's neighbour rows: O(pool · k) instead of a row scan per pair MMR asks about.
   */
  function poolSimilarity(m: ServingModel, pool: readonly number[]): (a: number, b: number) => number {
    const n = m.itemIds.length;
    if (slots.length < n) slots = new Int32Array(n).fill(-1);
    const at = slots;
    pool.forEach((item, x) => (at[item] = x));
    const size = pool.length;
    const sim = new Float64Array(size * size);
    for (const nb of [m.similar, m.content])
      for (let x = 0; x < size; x++) {
        const a = pool[x]!;
        for (let p = nb.indptr[a]!; p < nb.indptr[a + 1]!; p++) {
          const y = at[nb.indices[p]!]!;
          if (y < 0) continue;
          const v = nb.values[p]!;
          if (v > sim[x * size + y]!) sim[x * size + y] = v;
          if (v > sim[y * size + x]!) sim[y * size + x] = v;
        }
      }
    const pos = new Map<number, number>();
    pool.forEach((item, x) => {
      pos.set(item, x);
      at[item] = -1;
    });
    return (a, b) => {
      const x = pos.get(a);
      const y = pos.get(b);
      return x === undefined || y === undefined ? 0 : sim[x * size + y]!;
    };
  }
  /** Scratch item → pool position map (−1: not in the pool), reset after each use. */
  let slots = new Int32Array(0);

  /** Items no request may get (not in the catalogue), computed once per model version. */
  let unsellable: { model: ServingModel; mask: Uint8Array } | null = null;
  function baseExclusions(m: ServingModel): Uint8Array {
    if (unsellable?.model !== m) {
      const mask = new Uint8Array(m.itemIds.length);
      m.info.forEach((x, i) => (mask[i] = x.inCatalog ? 0 : 1));
      unsellable = { model: m, mask };
    }
    return unsellable.mask;
  }

  // Impressions are written in batches (one transaction per flush, not one per request); the module
  // flushes on a timer and on stop. Reads come from an in-process count per shopper (loaded once from the
  // store, then kept current as lists are shown), so serving never waits for a write. Counts are reloaded
  // after `impressionMaxAgeMs` to pick up lists shown by other serving processes.
  let pending = new Map<string | null, string[][]>();
  let pendingCount = 0;
  const impressionMaxAgeMs = 60_000;
  const impressionCounts = new Map<string, { at: number; shown: Map<string, number> }>();
  function bufferImpressions(subjectId: string | null, itemIds: string[]) {
    if (itemIds.length === 0) return;
    const list = pending.get(subjectId);
    if (list) list.push(itemIds);
    else pending.set(subjectId, [itemIds]);
    const counts = subjectId === null ? undefined : impressionCounts.get(subjectId);
    if (counts) for (const id of itemIds) counts.shown.set(id, (counts.shown.get(id) ?? 0) + 1);
    if (++pendingCount >= 500)
      void service.flush().catch((e: unknown) => deps.logger.warn({ err: e }, 'impression flush failed'));
  }
  async function impressionsOf(subjectIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const id of subjectIds) {
      let c = impressionCounts.get(id);
      if (!c || performance.now() - c.at > impressionMaxAgeMs) {
        const at = performance.now();
        const shown = new Map<string, number>();
        for (const r of await store.impressionsOf([id])) shown.set(r.item_id, Number(r.shown));
        // Lists shown but not yet written are not in the store: count them too.
        for (const list of pending.get(id) ?? [])
          for (const item of list) shown.set(item, (shown.get(item) ?? 0) + 1);
        c = { at, shown };
        impressionCounts.set(id, c);
        while (impressionCounts.size > 20_000) impressionCounts.delete(impressionCounts.keys().next().value!);
      }
      for (const [item, n] of c.shown) out.set(item, (out.get(item) ?? 0) + n);
    }
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

  const service = {
    async flush(): Promise<void> {
      if (pending.size === 0) return;
      const batch = pending;
      pending = new Map();
      pendingCount = 0;
      await store.recordImpressions(batch, clock.now().getTime());
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
      const { bytes, stats } =
        config.trainInWorker === false
          ? (() => {
              const m = trainServingModel(events, products, trainOptions);
              return { bytes: serializeModel(m), stats: m.stats };
            })()
          : await trainInWorker(events, products, trainOptions);
      const version = await store.saveModel(bytes, stats, clock.now().getTime());
      const model = deserializeModel(bytes);
      current = { version, model };
      deps.logger.info({ version, ...model.stats }, 'recommendation model trained');
      // The training read has every recent shopper's events: warm the history cache with them.
      await histories
        .prefill(events, asOf)
        .catch((e: unknown) => deps.logger.warn({ err: e }, 'history cache warm-up failed'));
      return { version, stats };
    },

    /** Loads a newer version saved by another process (hot swap); cheap when none is newer. */
    async refresh(): Promise<number> {
      const latest = await store.latestVersion();
      if (latest > (current?.version ?? 0)) {
        const bytes = await store.loadModel(latest);
        if (bytes) current = { version: latest, model: deserializeModel(bytes) };
      }
      return current?.version ?? 0;
    },

    async recommend(q: RecommendQuery): Promise<RecommendResult> {
      if (!current) await service.refresh();
      if (!current) await service.train();
      const { model: m, version } = current!;
      const n = m.itemIds.length;
      const anchor = q.itemId !== undefined ? m.itemIndex.get(q.itemId) : undefined;
      if ((q.surface === 'similar' || q.surface === 'bought-together') && q.itemId === undefined)
        throw new AppError('invalid_request', `surface=${q.surface} needs itemId (the product on the page).`);
      const personalised =
        q.subjectIds.length > 0 && (await deps.personalisation.isPersonalised(q.subjectIds));
      // Personalisation off: nothing of the shopper's history stays in memory either.
      if (!personalised && q.subjectIds.length > 0) histories.invalidate(q.subjectIds);
      const ctx = personalised
        ? await historyOf(q.subjectIds)
        : { history: { items: [], weights: [] }, bought: new Set<number>(), sessionItems: [] };
      const feedback = personalised ? await store.feedbackOf(q.subjectIds) : [];
      const impressions = personalised ? await impressionsOf(q.subjectIds) : new Map<string, number>();
      // Interest tags only for "for you", only while personalised: tag -> score.
      const interestOf = new Map<number, { tag: string; score: number }>();
      if (personalised && q.surface === 'for-you' && deps.interests) {
        const tags = new Map((await deps.interests.of(q.subjectIds)).map((t) => [t.tag, t.score]));
        if (tags.size > 0)
          for (let i = 0; i < n; i++) {
            const c = m.info[i]!.category;
            const tag = c ? deps.interests.tagOf(c) : '';
            const score = tags.get(tag);
            if (score !== undefined) interestOf.set(i, { tag, score });
          }
      }
      const scores = new Float64Array(n);
      const pageHistory: History =
        anchor !== undefined ? { items: [anchor], weights: [1] } : { items: [], weights: [] };
      let mainTable: Neighbours = m.collaborative;
      let mainKind: Reason['kind'] = 'viewed';
      let anchorHistory = ctx.history;
      if (q.surface === 'for-you') {
        if (ctx.history.items.length > 0) {
          addNeighbours(scores, m.collaborative, ctx.history, 1);
          addNeighbours(scores, m.similar, ctx.history, 0.3);
        }
        if (interestOf.size > 0) {
          const fromInterests = new Float64Array(n);
          for (const [i, t] of interestOf) fromInterests[i] = t.score;
          addInto(scores, fromInterests, 0.3);
        }
        addInto(scores, m.popularity, 0.05);
      } else if (q.surface === 'similar') {
        addNeighbours(scores, m.similar, pageHistory, 1);
        addNeighbours(scores, m.content, pageHistory, 0.5);
        [mainTable, mainKind, anchorHistory] = [m.similar, 'similar', pageHistory];
      } else if (q.surface === 'bought-together') {
        addNeighbours(scores, m.boughtTogether, pageHistory, 1);
        addNeighbours(scores, m.similar, pageHistory, 0.1);
        [mainTable, mainKind, anchorHistory] = [m.boughtTogether, 'bought_with', pageHistory];
      } else {
        const session: History =
          ctx.sessionItems.length > 0
            ? { items: ctx.sessionItems, weights: ctx.sessionItems.map(() => 1) }
            : pageHistory;
        if (session.items.length > 0) {
          addInto(scores, m.vsknn.score(session), 1);
          addNeighbours(scores, m.rules, { items: session.items.slice(-1), weights: [1] }, 0.5);
        }
        addInto(scores, m.popularity, 0.02);
        [mainTable, mainKind, anchorHistory] = [m.rules, 'session', session];
      }
      // A list the shop passes in is re-ranked, nothing else is added.
      const allowed = q.candidates
        ? new Set(q.candidates.map((id) => m.itemIndex.get(id)).filter((i): i is number => i !== undefined))
        : null;
      const notCategories = new Set(feedback.filter((f) => f.kind === 'category').map((f) => f.value));
      const mask = baseExclusions(m).slice();
      for (const i of ctx.bought) mask[i] = 1;
      if (anchor !== undefined) mask[anchor] = 1;
      for (const f of feedback)
        if (f.kind === 'item') {
          const i = m.itemIndex.get(f.value);
          if (i !== undefined) mask[i] = 1;
        }
      if (allowed || q.category || q.brand || notCategories.size > 0)
        for (let i = 0; i < n; i++) {
          const info = m.info[i]!;
          if (
            (allowed && !allowed.has(i)) ||
            (q.category && info.category !== q.category) ||
            (q.brand && info.brand !== q.brand) ||
            (info.category && notCategories.has(info.category))
          )
            mask[i] = 1;
        }
      const exclude = { has: (i: number) => mask[i] === 1 };
      // Items shown again and again without a click lose weight.
      for (const [itemId, shown] of impressions) {
        const i = m.itemIndex.get(itemId);
        if (i !== undefined && shown > 3) scores[i] = scores[i]! * Math.pow(0.8, shown - 3);
      }
      const shopRules = await rules();
      for (const r of shopRules) {
        if (r.surface !== null && r.surface !== q.surface) continue;
        const i = m.itemIndex.get(r.item_id);
        if (i === undefined) continue;
        if (r.kind === 'boost') scores[i] = (scores[i]! + 0.01) * r.factor;
        else if (r.kind === 'bury') scores[i] = scores[i]! * r.factor;
      }
      const poolSize = Math.max(q.limit * 4, 40);
      let pool = topK(scores, poolSize, exclude);
      if (pool.length < poolSize) {
        // Cold start (new shop, new shopper, new item): fill with popular items, then any sellable item.
        const inPool = new Set(pool);
        const have = { has: (i: number) => mask[i] === 1 || inPool.has(i) };
        for (const i of topK(m.popularity, poolSize - pool.length, have, true)) {
          pool.push(i);
          scores[i] = 0;
        }
      }
      // Live stock and status from the catalogue.
      const products = await deps.catalog.getProducts(pool.map((i) => m.itemIds[i]!));
      const sellable = new Set(products.filter((p) => p.active && p.stock > 0).map((p) => p.id));
      pool = pool.filter((i) => sellable.has(m.itemIds[i]!));
      const similarity = poolSimilarity(m, pool);
      let ranked = mmrRerank(
        pool.map((i) => ({ item: i, score: scores[i]! })),
        q.limit,
        config.diversityLambda ?? 0.8,
        similarity,
      );
      const pins = shopRules.filter(
        (r) => r.kind === 'pin' && (r.surface === null || r.surface === q.surface),
      );
      if (pins.length > 0) {
        const pinned = (await deps.catalog.getProducts(pins.map((p) => p.item_id)))
          .filter((p) => p.active && p.stock > 0)
          .map((p) => m.itemIndex.get(p.id))
          .filter((i): i is number => i !== undefined && !exclude.has(i));
        ranked = [
          ...pinned.map((i) => ({ item: i, score: scores[i]! })),
          ...ranked.filter((r) => !pinned.includes(r.item)),
        ].slice(0, q.limit);
      }
      const anchors =
        anchorHistory.items.length > 0
          ? anchorsOf(
              mainTable,
              anchorHistory,
              ranked.map((r) => r.item),
            )
          : new Map<number, number>();
      const items = ranked.map(({ item, score }) => {
        // A filler from the cold-start fallback (score 0) is explained as popular, not as similar.
        const a = score > 0 && anchorHistory.items.length > 0 ? (anchors.get(item) ?? anchor ?? null) : null;
        // An item in one of the shopper's interest tags is explained by that tag (the control they can
        // delete in the privacy centre); otherwise by its anchor item, else as popular.
        const interest = score > 0 ? (interestOf.get(item)?.tag ?? null) : null;
        const kind: Reason['kind'] = interest !== null ? 'interest' : a === null ? 'popular' : mainKind;
        return {
          itemId: m.itemIds[item]!,
          score: Math.round(score * 1e6) / 1e6,
          reason: reasonFor(kind, m, a, m.info[item]!.category, interest),
        };
      });
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
      if (target.itemId) await store.addFeedback(subjectIds[0]!, 'item', target.itemId, now);
      if (target.category) await store.addFeedback(subjectIds[0]!, 'category', target.category, now);
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
      for (const id of subjectIds) {
        pending.delete(id);
        impressionCounts.delete(id);
      }
      histories.invalidate(subjectIds);
      const deleted = await store.eraseSubject(subjectIds);
      const hadModel = (await store.latestVersion()) > 0;
      if (hadModel) {
        const { version } = await service.train({ excludeSubjects: subjectIds });
        await store.deleteModelsBefore(version);
      }
      // Again after the retrain: a request that read the events before they were deleted may have cached them.
      histories.invalidate(subjectIds);
      return deleted;
    },
  };
  return service;
}
