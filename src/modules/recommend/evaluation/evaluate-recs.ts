/**
 * Offline evaluation of the recommenders: splitting protocols, training every requested algorithm on the
 * training part, ranking for each test user (top-n) or each next click of a test session (next-item), and
 * computing accuracy and beyond-accuracy metrics. Used by `candor evaluate recs` and the benchmarks.
 */
import { AppError } from '../../../kernel/errors.ts';
import { trainContent } from '../algorithms/content.ts';
import { trainEase } from '../algorithms/ease.ts';
import { blend } from '../algorithms/hybrid.ts';
import { trainItemKnn } from '../algorithms/item-knn.ts';
import { mmrRerank } from '../algorithms/mmr.ts';
import { intraListDiversity, novelty, rankingMetrics, seededRandom } from '../algorithms/metrics.ts';
import { trainPopularity } from '../algorithms/popularity.ts';
import { trainSequentialRules, trainVsknn } from '../algorithms/session-knn.ts';
import { topK } from '../algorithms/sparse.ts';
import type { InteractionSet, Recommender } from '../algorithms/types.ts';
import type { RawEvent } from './load-interactions.ts';

export const PROTOCOLS = ['temporal', 'leave-last-out', 'random', 'stratified'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
export const TASKS = ['top-n', 'next-item'] as const;
export type Task = (typeof TASKS)[number];
export const ALGORITHMS = [
  'popularity',
  'item-knn',
  'item-knn-bm25',
  'ease',
  'vsknn',
  'sequential-rules',
  'content',
  'hybrid',
] as const;
export type AlgorithmName = (typeof ALGORITHMS)[number];

export type SplitOptions = {
  protocol: Protocol;
  testFraction: number;
  /** Temporal only: the last N days are the test period (instead of a fraction of events). */
  testDays?: number;
  seed?: number;
};

/** Splits events into train and test by the protocol; `stratified` is Microsoft Recommenders' per-user split. */
export function splitEvents(
  events: readonly RawEvent[],
  task: Task,
  o: SplitOptions,
): { train: RawEvent[]; test: RawEvent[] } {
  const rnd = seededRandom(o.seed ?? 42);
  const f = o.testFraction;
  const groupKey = (e: RawEvent) => (task === 'next-item' ? (e.session ?? e.user) : e.user);
  const byGroup = new Map<string, number[]>();
  events.forEach((e, x) => {
    const key = groupKey(e);
    const list = byGroup.get(key);
    if (list) list.push(x);
    else byGroup.set(key, [x]);
  });
  const isTest = new Uint8Array(events.length);
  if (o.protocol === 'temporal') {
    const times = events.map((e) => e.time).sort((a, b) => a - b);
    const last = times[times.length - 1] ?? 0;
    const cutoff =
      o.testDays !== undefined
        ? last - o.testDays * 86_400_000
        : (times[Math.floor(times.length * (1 - f))] ?? last);
    if (task === 'next-item') {
      // A session belongs to the period in which it started, as in session-rec.
      for (const list of byGroup.values()) {
        const start = Math.min(...list.map((x) => events[x]!.time));
        if (start >= cutoff) for (const x of list) isTest[x] = 1;
      }
    } else events.forEach((e, x) => (isTest[x] = e.time >= cutoff ? 1 : 0));
  } else if (o.protocol === 'leave-last-out') {
    for (const list of byGroup.values()) {
      if (list.length < 2) continue;
      let last = list[0]!;
      for (const x of list) if (events[x]!.time >= events[last]!.time) last = x;
      isTest[last] = 1;
    }
  } else if (o.protocol === 'random') {
    if (task === 'next-item') {
      for (const list of byGroup.values()) if (rnd() < f) for (const x of list) isTest[x] = 1;
    } else for (let x = 0; x < events.length; x++) isTest[x] = rnd() < f ? 1 : 0;
  } else {
    for (const list of byGroup.values()) {
      const shuffled = [...list];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const nTrain = Math.round(shuffled.length * (1 - f));
      for (const x of shuffled.slice(nTrain)) isTest[x] = 1;
    }
  }
  const train: RawEvent[] = [];
  const test: RawEvent[] = [];
  events.forEach((e, x) => (isTest[x] ? test : train).push(e));
  return { train, test };
}

export type Encoded = {
  data: InteractionSet;
  userIndex: Map<string, number>;
  itemIndex: Map<string, number>;
  itemIds: string[];
  titles: (string | null)[];
};

/** Dense ids for the training events (users, items, sessions). */
export function encode(train: readonly RawEvent[]): Encoded {
  const userIndex = new Map<string, number>();
  const itemIndex = new Map<string, number>();
  const sessionIndex = new Map<string, number>();
  const itemIds: string[] = [];
  const titles: (string | null)[] = [];
  const n = train.length;
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const sessions = new Int32Array(n);
  const weights = new Float64Array(n);
  const times = new Float64Array(n);
  train.forEach((e, x) => {
    let u = userIndex.get(e.user);
    if (u === undefined) userIndex.set(e.user, (u = userIndex.size));
    let i = itemIndex.get(e.item);
    if (i === undefined) {
      itemIndex.set(e.item, (i = itemIndex.size));
      itemIds.push(e.item);
      titles.push(e.title);
    }
    const sk = e.session ?? `u:${e.user}`;
    let s = sessionIndex.get(sk);
    if (s === undefined) sessionIndex.set(sk, (s = sessionIndex.size));
    users[x] = u;
    items[x] = i;
    sessions[x] = s;
    weights[x] = e.weight;
    times[x] = e.time;
  });
  return {
    data: { nUsers: userIndex.size, nItems: itemIndex.size, users, items, weights, times, sessions },
    userIndex,
    itemIndex,
    itemIds,
    titles,
  };
}

export type AlgorithmParams = {
  easeLambda?: number;
  task: Task;
  /** MMR re-ranking of the top 3·k candidates with this λ (1 or absent: none). */
  mmrLambda?: number;
};

export function trainAlgorithm(name: AlgorithmName, enc: Encoded, params: AlgorithmParams): Recommender {
  const d = enc.data;
  switch (name) {
    case 'popularity':
      return trainPopularity(d, {
        halfLifeMs: params.task === 'next-item' ? 86_400_000 : Infinity,
        distinctUsers: true,
      });
    case 'item-knn':
      return trainItemKnn(d, { k: 100 });
    case 'item-knn-bm25':
      return trainItemKnn(d, { k: 100, normalisation: 'bm25' });
    case 'ease':
      return trainEase(d, { lambda: params.easeLambda ?? 250 });
    case 'vsknn':
      return trainVsknn(d);
    case 'sequential-rules':
      return trainSequentialRules(d);
    case 'content':
      if (!enc.titles.some((t) => t))
        throw new AppError(
          'invalid_request',
          'The content algorithm needs a title column: add title=COLUMN to --columns.',
        );
      return trainContent(enc.titles.map((t) => ({ title: { en: t } })));
    case 'hybrid':
      return params.task === 'next-item'
        ? blend('hybrid', [
            { model: trainVsknn(d), weight: 1 },
            { model: trainSequentialRules(d), weight: 0.5 },
            { model: trainItemKnn(d, { k: 100 }), weight: 0.2 },
          ])
        : blend('hybrid', [
            { model: trainEase(d, { lambda: params.easeLambda ?? 250 }), weight: 1 },
            { model: trainItemKnn(d, { k: 100, normalisation: 'bm25' }), weight: 0.3 },
            ...(enc.titles.some((t) => t)
              ? [{ model: trainContent(enc.titles.map((t) => ({ title: { en: t } }))), weight: 0.05 }]
              : []),
            { model: trainPopularity(d, { distinctUsers: true }), weight: 0.02 },
          ]);
  }
}

export type Request = {
  history: { items: number[]; weights: number[] };
  relevant: Set<number>;
  exclude: Set<number>;
  /** next-item: `session:position` of the last event seen (session-rec's saver numbering). */
  key?: string;
};

/** One ranking request per test user (top-n) or per next click of a test session (next-item). */
export function buildRequests(
  enc: Encoded,
  train: readonly RawEvent[],
  test: readonly RawEvent[],
  task: Task,
): { requests: Request[]; skipped: number } {
  const requests: Request[] = [];
  let skipped = 0;
  if (task === 'top-n') {
    const hist = new Map<number, { items: number[]; weights: number[] }>();
    const sorted = train.map((e, x) => ({ e, x })).sort((a, b) => a.e.time - b.e.time || a.x - b.x);
    for (const { e } of sorted) {
      const u = enc.userIndex.get(e.user)!;
      let h = hist.get(u);
      if (!h) hist.set(u, (h = { items: [], weights: [] }));
      h.items.push(enc.itemIndex.get(e.item)!);
      h.weights.push(e.weight);
    }
    const rel = new Map<number, Set<number>>();
    for (const e of test) {
      const u = enc.userIndex.get(e.user);
      if (u === undefined) continue;
      // Items new to the catalogue stay relevant (a miss no model can avoid), so scores stay honest.
      const i = enc.itemIndex.get(e.item) ?? -1 - (rel.get(u)?.size ?? 0);
      let set = rel.get(u);
      if (!set) rel.set(u, (set = new Set()));
      set.add(i);
    }
    const testUsers = new Set(test.map((e) => e.user));
    skipped = [...testUsers].filter((u) => !enc.userIndex.has(u)).length;
    for (const [u, relevant] of rel) {
      const history = hist.get(u)!;
      const seen = new Set(history.items);
      for (const i of seen) relevant.delete(i);
      if (relevant.size === 0) continue;
      requests.push({ history, relevant, exclude: seen });
    }
  } else {
    const bySession = new Map<string, RawEvent[]>();
    for (const e of test) {
      const key = e.session ?? e.user;
      const list = bySession.get(key);
      if (list) list.push(e);
      else bySession.set(key, [e]);
    }
    for (const [session, list] of bySession) {
      const seq = list
        .map((e, x) => ({ e, x }))
        .sort((a, b) => a.e.time - b.e.time || a.x - b.x)
        .map(({ e }) => enc.itemIndex.get(e.item));
      // Clicks on items unknown to training are dropped, as session-rec's preprocessing does.
      const known = seq.filter((i): i is number => i !== undefined);
      skipped += seq.length - known.length;
      for (let p = 1; p < known.length; p++) {
        const prefix = known.slice(0, p);
        requests.push({
          history: { items: prefix, weights: prefix.map(() => 1) },
          relevant: new Set([known[p]!]),
          exclude: new Set(),
          key: `${session}:${p - 1}`,
        });
      }
    }
  }
  return { requests, skipped };
}

export type AtK = {
  precision: number;
  recall: number;
  ndcg: number;
  hr: number;
  mrr: number;
  coverage: number;
  diversity: number;
  novelty: number;
  meanPopularity: number;
};

export type AlgorithmResult = {
  algorithm: AlgorithmName;
  params: Record<string, number | string>;
  trainSeconds: number;
  p95MsPerRequest: number;
  requests: number;
  atK: Record<string, AtK>;
};

/** Cosine similarity of two items over the sets of training users who had them (for diversity). */
export function itemCosine(enc: Encoded): {
  similarity: (a: number, b: number) => number;
  itemUsers: Int32Array;
} {
  const d = enc.data;
  const lists: Set<number>[] = Array.from({ length: d.nItems }, () => new Set());
  for (let e = 0; e < d.items.length; e++) lists[d.items[e]!]!.add(d.users[e]!);
  const sorted = lists.map((s) => Int32Array.from(s).sort());
  const cache = new Map<number, number>();
  return {
    itemUsers: Int32Array.from(sorted, (s) => s.length),
    similarity: (a, b) => {
      if (a === b) return 1;
      const key = a < b ? a * d.nItems + b : b * d.nItems + a;
      const hit = cache.get(key);
      if (hit !== undefined) return hit;
      const x = sorted[a]!;
      const y = sorted[b]!;
      let i = 0;
      let j = 0;
      let n = 0;
      while (i < x.length && j < y.length) {
        if (x[i] === y[j]) {
          n++;
          i++;
          j++;
        } else if (x[i]! < y[j]!) i++;
        else j++;
      }
      const s = x.length && y.length ? n / Math.sqrt(x.length * y.length) : 0;
      if (cache.size < 2_000_000) cache.set(key, s);
      return s;
    },
  };
}

export function evaluateAlgorithm(
  name: AlgorithmName,
  enc: Encoded,
  requests: readonly Request[],
  ks: readonly number[],
  params: AlgorithmParams,
  beyond: ReturnType<typeof itemCosine>,
  trained?: { model: Recommender; trainSeconds: number },
): AlgorithmResult & { model: Recommender } {
  const t0 = performance.now();
  const model = trained?.model ?? trainAlgorithm(name, enc, params);
  const trainSeconds = trained?.trainSeconds ?? (performance.now() - t0) / 1000;
  const mmr = params.mmrLambda !== undefined && params.mmrLambda < 1 ? params.mmrLambda : null;
  const fallback = name === 'popularity' ? null : trainPopularity(enc.data, { distinctUsers: true });
  const maxK = Math.max(...ks);
  const lat: number[] = [];
  const sums = ks.map(() => ({
    precision: 0,
    recall: 0,
    ndcg: 0,
    hr: 0,
    mrr: 0,
    diversity: 0,
    novelty: 0,
    meanPopularity: 0,
    items: new Set<number>(),
  }));
  for (const r of requests) {
    const s0 = performance.now();
    const scores = model.score(r.history);
    let list = topK(scores, mmr === null ? maxK : maxK * 3, r.exclude);
    if (mmr !== null)
      list = mmrRerank(
        list.map((item) => ({ item, score: scores[item]! })),
        maxK,
        mmr,
        beyond.similarity,
      ).map((c) => c.item);
    // Too little evidence for a full list: fill from popularity (the cold-start fallback).
    if (list.length < maxK && fallback) {
      const have = new Set([...list, ...r.exclude]);
      list = list.concat(topK(fallback.score(r.history), maxK - list.length, have));
    }
    lat.push(performance.now() - s0);
    ks.forEach((k, x) => {
      const top = list.slice(0, k);
      const m = rankingMetrics(top, r.relevant, k);
      const acc = sums[x]!;
      acc.precision += m.precision;
      acc.recall += m.recall;
      acc.ndcg += m.ndcg;
      acc.hr += m.hr;
      acc.mrr += m.mrr;
      acc.diversity += intraListDiversity(top, beyond.similarity);
      acc.novelty += novelty(top, beyond.itemUsers, enc.data.nUsers);
      let pop = 0;
      for (const i of top) {
        pop += beyond.itemUsers[i]!;
        acc.items.add(i);
      }
      acc.meanPopularity += top.length ? pop / top.length : 0;
    });
  }
  lat.sort((a, b) => a - b);
  const n = Math.max(requests.length, 1);
  const round = (v: number) => Math.round(v * 1e5) / 1e5;
  const atK: Record<string, AtK> = {};
  ks.forEach((k, x) => {
    const a = sums[x]!;
    atK[String(k)] = {
      precision: round(a.precision / n),
      recall: round(a.recall / n),
      ndcg: round(a.ndcg / n),
      hr: round(a.hr / n),
      mrr: round(a.mrr / n),
      coverage: round(a.items.size / Math.max(enc.data.nItems, 1)),
      diversity: round(a.diversity / n),
      novelty: round(a.novelty / n),
      meanPopularity: round(a.meanPopularity / n),
    };
  });
  const p: Record<string, number | string> = {};
  if (name === 'ease' || name === 'hybrid') p.lambda = params.easeLambda ?? 250;
  if (mmr !== null) p.mmrLambda = mmr;
  return {
    algorithm: name,
    params: p,
    trainSeconds: round(trainSeconds),
    p95MsPerRequest: round(lat[Math.max(0, Math.ceil(lat.length * 0.95) - 1)] ?? 0),
    requests: requests.length,
    atK,
    model,
  };
}

/**
 * Tunes EASE's λ on a validation split carved from the TRAINING events only (same protocol), by NDCG at
 * the largest k. The test set is never looked at.
 */
export function tuneEaseLambda(
  train: readonly RawEvent[],
  task: Task,
  split: SplitOptions,
  ks: readonly number[],
  grid = [50, 100, 200, 300, 500, 800, 1200],
): { lambda: number; scores: Record<string, number> } {
  const inner = splitEvents(train, task, { ...split, seed: (split.seed ?? 42) + 1 });
  const enc = encode(inner.train);
  const { requests } = buildRequests(enc, inner.train, inner.test, task);
  const beyond = itemCosine(enc);
  const k = Math.max(...ks);
  const scores: Record<string, number> = {};
  let best = grid[0]!;
  for (const lambda of grid) {
    const r = evaluateAlgorithm('ease', enc, requests, [k], { task, easeLambda: lambda }, beyond);
    scores[String(lambda)] = r.atK[String(k)]!.ndcg;
    if (r.atK[String(k)]!.ndcg > (scores[String(best)] ?? -1) || lambda === grid[0]) best = lambda;
  }
  return { lambda: best, scores };
}
