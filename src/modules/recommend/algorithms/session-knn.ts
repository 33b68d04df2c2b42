/**
 * Session-based models for the live session of anonymous shoppers.
 *
 * V-SKNN follows session-rec's `VMContextKNN` (Ludewig & Jannach): candidate neighbours are past sessions
 * sharing an item with the current one, the `sampleSize` most recent of them are kept, each is scored by
 * the position-weighted overlap with the current session (`weighting`), the `k` most similar vote for their
 * items with a decay by how far back the shared item lies (`weightingScore`), boosted by the item's IDF.
 *
 * Sequential rules follow session-rec's `SequentialRules`: item b after item a within `steps` clicks earns
 * a rule a→b of weight 1/gap; the last item of the session picks the rules.
 */
import type { History, InteractionSet, Recommender } from './types.ts';

export type VsknnOptions = {
  k?: number;
  sampleSize?: number;
  weighting?: 'same' | 'div' | 'linear' | 'quadratic' | 'log';
  weightingScore?: 'same' | 'div' | 'linear' | 'quadratic' | 'log';
  /** Strength of the IDF boost (session-rec `idf_weighting`); 0 turns it off. */
  idfWeighting?: number;
  /** Recommend items already in the current session (clicks repeat a lot in shop sessions). */
  remind?: boolean;
};

const positionWeight = {
  same: () => 1,
  div: (i: number, len: number) => i / len,
  linear: (i: number, len: number) => Math.max(0.1, 1 - 0.1 * (len - i)),
  quadratic: (i: number, len: number) => (i / len) ** 2,
  log: (i: number, len: number) => 1 / (Math.log10(len - i + 1) + 1),
} as const;

const stepDecay = {
  same: () => 1,
  div: (s: number) => 1 / s,
  linear: (s: number) => Math.max(0, 1 - 0.1 * s),
  quadratic: (s: number) => 1 / (s * s),
  log: (s: number) => 1 / (Math.log10(s + 1.7) + 1),
} as const;

export type SessionIndex = {
  /** Distinct items of each session. */
  sessionItems: Int32Array[];
  /** Last event time of each session (recency for sampling). */
  sessionTime: Float64Array;
  /** Sessions of each item, most recent first. */
  itemSessions: Int32Array[];
  idf: Float64Array;
};

export function indexSessions(data: InteractionSet): SessionIndex {
  let nSessions = 0;
  for (const s of data.sessions) if (s + 1 > nSessions) nSessions = s + 1;
  const items: Set<number>[] = Array.from({ length: nSessions }, () => new Set());
  const time = new Float64Array(nSessions).fill(-Infinity);
  const clicks = new Float64Array(data.nItems);
  for (let e = 0; e < data.items.length; e++) {
    const s = data.sessions[e]!;
    items[s]!.add(data.items[e]!);
    clicks[data.items[e]!]!++;
    if (data.times[e]! > time[s]!) time[s] = data.times[e]!;
  }
  const bySession: number[][] = Array.from({ length: data.nItems }, () => []);
  let present = 0;
  items.forEach((set, s) => {
    if (set.size > 0) present++;
    for (const i of set) bySession[i]!.push(s);
  });
  const idf = new Float64Array(data.nItems);
  const itemSessions = bySession.map((list, i) => {
    // As VMContextKNN: sessions over the item's events (a click repeated in a session counts again).
    idf[i] = clicks[i]! > 0 ? Math.log(present / clicks[i]!) : 0;
    return Int32Array.from(list.sort((a, b) => time[b]! - time[a]!));
  });
  return { sessionItems: items.map((s) => Int32Array.from(s)), sessionTime: time, itemSessions, idf };
}

export type SessionKnnModel = Recommender & { readonly index: SessionIndex };

export function trainVsknn(data: InteractionSet, options: VsknnOptions = {}): SessionKnnModel {
  return vsknnFromIndex(indexSessions(data), data.nItems, options);
}

/** V-SKNN over a prebuilt session index (the serving model builds its index from compressed rows). */
export function vsknnFromIndex(
  index: SessionIndex,
  nItems: number,
  options: VsknnOptions = {},
): SessionKnnModel {
  const k = options.k ?? 500;
  const sampleSize = options.sampleSize ?? 5000;
  const weight = positionWeight[options.weighting ?? 'quadratic'];
  const decay = stepDecay[options.weightingScore ?? 'div'];
  const idfW = options.idfWeighting ?? 5;
  const remind = options.remind ?? true;
  const sim = new Float64Array(index.sessionItems.length);
  const mark = new Uint8Array(index.sessionItems.length);
  return {
    name: 'vsknn',
    nItems,
    index,
    score: (history: History) => {
      const out = new Float64Array(nItems);
      const seq = history.items.filter((i) => i >= 0 && i < nItems);
      if (seq.length === 0) return out;
      // Position weight of each distinct item: its latest position in the session counts.
      const posW = new Map<number, number>();
      seq.forEach((item, p) => posW.set(item, weight(p + 1, seq.length)));
      // Candidates: sessions sharing an item, most recent first, at most sampleSize.
      const candidates: number[] = [];
      for (const item of posW.keys())
        for (const s of index.itemSessions[item]!)
          if (!mark[s]) {
            mark[s] = 1;
            candidates.push(s);
          }
      for (const s of candidates) mark[s] = 0;
      if (candidates.length > sampleSize) {
        candidates.sort((a, b) => index.sessionTime[b]! - index.sessionTime[a]!);
        candidates.length = sampleSize;
      }
      const scored: number[] = [];
      for (const s of candidates) {
        let dot = 0;
        for (const i of index.sessionItems[s]!) dot += posW.get(i) ?? 0;
        if (dot > 0) {
          sim[s] = dot / posW.size;
          scored.push(s);
        }
      }
      scored.sort((a, b) => sim[b]! - sim[a]!);
      if (scored.length > k) scored.length = k;
      for (const s of scored) {
        const items = index.sessionItems[s]!;
        const set = new Set(items);
        let d = 0;
        for (let p = seq.length - 1, step = 1; p >= 0; p--, step++)
          if (set.has(seq[p]!)) {
            d = decay(step);
            break;
          }
        const base = sim[s]! * d;
        for (const i of items) out[i]! += base + base * index.idf[i]! * idfW;
      }
      if (!remind) for (const i of seq) out[i] = 0;
      return out;
    },
  };
}

export type SequentialRulesOptions = { steps?: number; weighting?: 'div' | 'same' | 'linear' };

export function trainSequentialRules(
  data: InteractionSet,
  options: SequentialRulesOptions = {},
): Recommender {
  const steps = options.steps ?? 10;
  const w = options.weighting ?? 'div';
  const order = Array.from(data.items.keys()).sort(
    (a, b) => data.sessions[a]! - data.sessions[b]! || data.times[a]! - data.times[b]! || a - b,
  );
  const rules = Array.from({ length: data.nItems }, () => new Map<number, number>());
  let start = 0;
  for (let x = 1; x <= order.length; x++) {
    if (x < order.length && data.sessions[order[x]!] === data.sessions[order[start]!]) continue;
    for (let i = start + 1; i < x; i++) {
      const cur = data.items[order[i]!]!;
      for (let j = i - 1; j >= Math.max(start, i - steps); j--) {
        const prev = data.items[order[j]!]!;
        if (prev === cur) continue;
        const gap = i - j;
        const weight = w === 'div' ? 1 / gap : w === 'linear' ? Math.max(0, 1 - 0.1 * gap) : 1;
        const r = rules[prev]!;
        r.set(cur, (r.get(cur) ?? 0) + weight);
      }
    }
    start = x;
  }
  const packed = rules.map((r) => ({
    items: Int32Array.from(r.keys()),
    values: Float64Array.from(r.values()),
  }));
  return {
    name: 'sequential-rules',
    nItems: data.nItems,
    score: (history) => {
      const out = new Float64Array(data.nItems);
      const last = history.items[history.items.length - 1];
      if (last === undefined || last < 0 || last >= data.nItems) return out;
      const r = packed[last]!;
      for (let p = 0; p < r.items.length; p++) out[r.items[p]!] = r.values[p]!;
      return out;
    },
  };
}
