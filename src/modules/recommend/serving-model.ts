/**
 * The model a serving process uses: item-to-item tables from every algorithm (sparsified to the best
 * neighbours, so scoring a shopper costs O(history · k)), popularity, and the recent sessions V-SKNN needs.
 * It holds no subject ids; an erasure retrains it without the erased shopper's events and drops older
 * versions. Serialised as gzipped JSON with base64 typed arrays, versioned in the state store.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { trainContent } from './algorithms/content.ts';
import { trainEase } from './algorithms/ease.ts';
import { trainItemKnn } from './algorithms/item-knn.ts';
import { trainPopularity } from './algorithms/popularity.ts';
import { trainSequentialRules, vsknnFromIndex } from './algorithms/session-knn.ts';
import { topK } from './algorithms/sparse.ts';
import type { InteractionSet, Neighbours, Recommender } from './algorithms/types.ts';
import { EVENT_TYPE_WEIGHTS } from './evaluation/load-interactions.ts';

export type TrainingEvent = {
  subjectId: string;
  sessionId: string | null;
  orderId: string | null;
  type: string;
  productId: string;
  ts: number;
};

export type CatalogItem = {
  id: string;
  title: { en: string | null; id: string | null; zh: string | null };
  categoryPath: string[];
  brand: string | null;
  price: number;
  active: boolean;
  stock: number;
};

export type ItemInfo = {
  title: CatalogItem['title'];
  category: string | null;
  brand: string | null;
  price: number | null;
  inCatalog: boolean;
};

export type ServingModel = {
  trainedAt: number;
  itemIds: string[];
  itemIndex: Map<string, number>;
  info: ItemInfo[];
  popularity: Float64Array;
  collaborative: Neighbours;
  similar: Neighbours;
  boughtTogether: Neighbours;
  content: Neighbours;
  rules: Neighbours;
  sessions: { indptr: Int32Array; items: Int32Array; times: Float64Array };
  vsknn: Recommender;
  stats: {
    events: number;
    items: number;
    subjects: number;
    sessions: number;
    trainMs: number;
    easeVariant: string;
  };
};

export type TrainOptions = {
  now: number;
  easeLambda?: number;
  maxDenseItems?: number;
  neighbours?: number;
  /** Sessions kept for V-SKNN (most recent). */
  maxSessions?: number;
  popularityHalfLifeMs?: number;
};

const PURCHASE = new Set(['order_completed', 'add_to_cart', 'checkout_started']);

function sparsify(model: Recommender, n: number, k: number): Neighbours {
  const indptr = new Int32Array(n + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = model.score({ items: [i], weights: [1] });
    s[i] = 0;
    for (const j of topK(s, k)) {
      indices.push(j);
      values.push(s[j]!);
    }
    indptr[i + 1] = indices.length;
  }
  return { nItems: n, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
}

function interactionSet(
  events: readonly TrainingEvent[],
  itemIndex: Map<string, number>,
  groupOf: (e: TrainingEvent) => string,
  weightOf: (e: TrainingEvent) => number,
): InteractionSet {
  const users = new Map<string, number>();
  const sessions = new Map<string, number>();
  const kept = events.filter((e) => weightOf(e) > 0);
  const set = {
    nUsers: 0,
    nItems: itemIndex.size,
    users: new Int32Array(kept.length),
    items: new Int32Array(kept.length),
    weights: new Float64Array(kept.length),
    times: new Float64Array(kept.length),
    sessions: new Int32Array(kept.length),
  };
  kept.forEach((e, x) => {
    const g = groupOf(e);
    let u = users.get(g);
    if (u === undefined) users.set(g, (u = users.size));
    const sk = e.sessionId ?? `s:${e.subjectId}`;
    let s = sessions.get(sk);
    if (s === undefined) sessions.set(sk, (s = sessions.size));
    set.users[x] = u;
    set.items[x] = itemIndex.get(e.productId)!;
    set.weights[x] = weightOf(e);
    set.times[x] = e.ts;
    set.sessions[x] = s;
  });
  return { ...set, nUsers: users.size };
}

export function trainServingModel(
  events: readonly TrainingEvent[],
  products: readonly CatalogItem[],
  o: TrainOptions,
): ServingModel {
  const t0 = performance.now();
  const itemIds: string[] = [];
  const itemIndex = new Map<string, number>();
  const info: ItemInfo[] = [];
  for (const p of products) {
    itemIndex.set(p.id, itemIds.length);
    itemIds.push(p.id);
    info.push({
      title: p.title,
      category: p.categoryPath.at(-1) ?? null,
      brand: p.brand,
      price: p.price,
      inCatalog: true,
    });
  }
  const sorted = [...events].sort((a, b) => a.ts - b.ts);
  for (const e of sorted)
    if (!itemIndex.has(e.productId)) {
      itemIndex.set(e.productId, itemIds.length);
      itemIds.push(e.productId);
      info.push({
        title: { en: null, id: null, zh: null },
        category: null,
        brand: null,
        price: null,
        inCatalog: false,
      });
    }
  const n = itemIds.length;
  const k = o.neighbours ?? 50;
  const typeWeight = (e: TrainingEvent) => EVENT_TYPE_WEIGHTS[e.type] ?? (e.type === 'page_view' ? 0 : 1);
  const all = interactionSet(sorted, itemIndex, (e) => e.subjectId, typeWeight);
  const baskets = interactionSet(
    sorted,
    itemIndex,
    (e) => e.orderId ?? e.sessionId ?? e.subjectId,
    (e) => (PURCHASE.has(e.type) ? 1 : 0),
  );
  const popularity = trainPopularity(all, {
    now: o.now,
    halfLifeMs: o.popularityHalfLifeMs ?? 7 * 86_400_000,
    distinctUsers: true,
  }).score({ items: [], weights: [] });
  const ease = trainEase(all, {
    lambda: o.easeLambda ?? 250,
    maxDenseItems: o.maxDenseItems ?? 2500,
    binary: false,
  });
  const collaborative = sparsify(ease, n, k);
  const similar = trainItemKnn(all, { k }).neighbours;
  const boughtTogether = trainItemKnn(baskets, { k }).neighbours;
  const contentModel = trainContent(
    itemIds.map((_, i) => {
      const x = info[i]!;
      return { title: x.title, categories: x.category ? [x.category] : [], brand: x.brand };
    }),
    { k },
  );
  const rules = sparsify(trainSequentialRules(all), n, k);
  const sessions = recentSessions(all, o.maxSessions ?? 20_000);
  const model: ServingModel = {
    trainedAt: o.now,
    itemIds,
    itemIndex,
    info,
    popularity,
    collaborative,
    similar,
    boughtTogether,
    content: contentModel.neighbours,
    rules,
    sessions,
    vsknn: vsknnFromSessions(sessions, n),
    stats: {
      events: all.items.length,
      items: n,
      subjects: all.nUsers,
      sessions: sessions.indptr.length - 1,
      trainMs: 0,
      easeVariant: ease.variant,
    },
  };
  model.stats.trainMs = Math.round(performance.now() - t0);
  return model;
}

function recentSessions(d: InteractionSet, max: number): ServingModel['sessions'] {
  const items = new Map<number, number[]>();
  const last = new Map<number, number>();
  for (let e = 0; e < d.items.length; e++) {
    const s = d.sessions[e]!;
    const list = items.get(s);
    if (list) list.push(d.items[e]!);
    else items.set(s, [d.items[e]!]);
    last.set(s, Math.max(last.get(s) ?? -Infinity, d.times[e]!));
  }
  const chosen = [...items.keys()].sort((a, b) => last.get(b)! - last.get(a)!).slice(0, max);
  const indptr = new Int32Array(chosen.length + 1);
  const flat: number[] = [];
  chosen.forEach((s, x) => {
    flat.push(...items.get(s)!);
    indptr[x + 1] = flat.length;
  });
  return { indptr, items: Int32Array.from(flat), times: Float64Array.from(chosen, (s) => last.get(s)!) };
}

/**
 * V-SKNN over the model's recent sessions, indexed straight from their compressed rows: sessions are
 * stored most recent first, so each item's session list comes out in recency order without sorting, and
 * a swap-in spends milliseconds here rather than building a set per session.
 */
function vsknnFromSessions(s: ServingModel['sessions'], nItems: number): Recommender {
  const nS = s.indptr.length - 1;
  const marks = new Int32Array(nItems).fill(-1);
  const distinct = new Int32Array(s.items.length);
  const sessionStart = new Int32Array(nS + 1);
  const counts = new Int32Array(nItems + 1);
  const clicks = new Float64Array(nItems);
  let present = 0;
  let d = 0;
  for (let x = 0; x < nS; x++) {
    for (let p = s.indptr[x]!; p < s.indptr[x + 1]!; p++) {
      const i = s.items[p]!;
      if (i < 0 || i >= nItems) continue;
      clicks[i]!++;
      if (marks[i] === x) continue;
      marks[i] = x;
      distinct[d++] = i;
      counts[i + 1]!++;
    }
    if (d > sessionStart[x]!) present++;
    sessionStart[x + 1] = d;
  }
  for (let i = 0; i < nItems; i++) counts[i + 1]! += counts[i]!;
  const fill = counts.slice(0, nItems);
  const bySession = new Int32Array(d);
  for (let x = 0; x < nS; x++)
    for (let p = sessionStart[x]!; p < sessionStart[x + 1]!; p++) bySession[fill[distinct[p]!]!++] = x;
  const idf = new Float64Array(nItems);
  // As indexSessions (session-knn.ts): sessions over the item's events.
  for (let i = 0; i < nItems; i++) idf[i] = clicks[i]! > 0 ? Math.log(present / clicks[i]!) : 0;
  return vsknnFromIndex(
    {
      sessionItems: Array.from({ length: nS }, (_, x) =>
        distinct.subarray(sessionStart[x], sessionStart[x + 1]),
      ),
      sessionTime: s.times,
      itemSessions: Array.from({ length: nItems }, (_, i) => bySession.subarray(counts[i], counts[i + 1])),
      idf,
    },
    nItems,
  );
}

const b64 = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const nbOut = (n: Neighbours) => ({
  nItems: n.nItems,
  indptr: b64(n.indptr),
  indices: b64(n.indices),
  values: b64(n.values),
});
function fromB64<T>(text: string, Ctor: { new (b: ArrayBuffer): T }): T {
  const buf = Buffer.from(text, 'base64');
  return new Ctor(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
type NbJson = ReturnType<typeof nbOut>;
const nbIn = (j: NbJson): Neighbours => ({
  nItems: j.nItems,
  indptr: fromB64(j.indptr, Int32Array),
  indices: fromB64(j.indices, Int32Array),
  values: fromB64(j.values, Float32Array),
});

export function serializeModel(m: ServingModel): Uint8Array {
  const doc = {
    format: 1,
    trainedAt: m.trainedAt,
    itemIds: m.itemIds,
    info: m.info,
    popularity: b64(m.popularity),
    collaborative: nbOut(m.collaborative),
    similar: nbOut(m.similar),
    boughtTogether: nbOut(m.boughtTogether),
    content: nbOut(m.content),
    rules: nbOut(m.rules),
    sessions: { indptr: b64(m.sessions.indptr), items: b64(m.sessions.items), times: b64(m.sessions.times) },
    stats: m.stats,
  };
  return new Uint8Array(gzipSync(JSON.stringify(doc)));
}

/** A model as plain data (typed arrays, strings): what crosses a worker boundary without copying. */
export type ModelParts = Omit<ServingModel, 'itemIndex' | 'vsknn'>;

/** The model's parts and the buffers to transfer with them (each once). */
export function partsOf(m: ModelParts): { parts: ModelParts; transfer: ArrayBuffer[] } {
  const parts: ModelParts = {
    trainedAt: m.trainedAt,
    itemIds: m.itemIds,
    info: m.info,
    popularity: m.popularity,
    collaborative: m.collaborative,
    similar: m.similar,
    boughtTogether: m.boughtTogether,
    content: m.content,
    rules: m.rules,
    sessions: m.sessions,
    stats: m.stats,
  };
  const arrays = [
    m.popularity,
    ...[m.collaborative, m.similar, m.boughtTogether, m.content, m.rules].flatMap((nb) => [
      nb.indptr,
      nb.indices,
      nb.values,
    ]),
    m.sessions.indptr,
    m.sessions.items,
    m.sessions.times,
  ];
  const transfer = [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))];
  return { parts, transfer };
}

/** The serving model from its parts: the id lookup and the V-SKNN session index are rebuilt here. */
export function modelFromParts(p: ModelParts): ServingModel {
  return {
    ...p,
    itemIndex: new Map(p.itemIds.map((id, i) => [id, i])),
    vsknn: vsknnFromSessions(p.sessions, p.itemIds.length),
  };
}

export function deserializeModel(bytes: Uint8Array): ServingModel {
  return modelFromParts(deserializeParts(bytes));
}

/** Decompresses and decodes a stored artefact (CPU-heavy on a large model: a worker runs it). */
export function deserializeParts(bytes: Uint8Array): ModelParts {
  const d = JSON.parse(gunzipSync(bytes).toString('utf8')) as {
    trainedAt: number;
    itemIds: string[];
    info: ItemInfo[];
    popularity: string;
    collaborative: NbJson;
    similar: NbJson;
    boughtTogether: NbJson;
    content: NbJson;
    rules: NbJson;
    sessions: { indptr: string; items: string; times: string };
    stats: ServingModel['stats'];
  };
  const sessions = {
    indptr: fromB64(d.sessions.indptr, Int32Array),
    items: fromB64(d.sessions.items, Int32Array),
    times: fromB64(d.sessions.times, Float64Array),
  };
  return {
    trainedAt: d.trainedAt,
    itemIds: d.itemIds,
    info: d.info,
    popularity: fromB64(d.popularity, Float64Array),
    collaborative: nbIn(d.collaborative),
    similar: nbIn(d.similar),
    boughtTogether: nbIn(d.boughtTogether),
    content: nbIn(d.content),
    rules: nbIn(d.rules),
    sessions,
    stats: d.stats,
  };
}
