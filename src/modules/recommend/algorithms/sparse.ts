/** Compressed sparse rows and top-k selection over typed arrays. */
import type { History, InteractionSet, Neighbours } from './types.ts';

export type Csr = {
  readonly nRows: number;
  readonly nCols: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float64Array;
};

/** Builds a CSR matrix, summing duplicate (row, col) entries; columns are sorted within a row. */
export function toCsr(
  rows: Int32Array,
  cols: Int32Array,
  values: Float64Array,
  nRows: number,
  nCols: number,
): Csr {
  const counts = new Int32Array(nRows + 1);
  for (let e = 0; e < rows.length; e++) counts[rows[e]! + 1]!++;
  for (let r = 0; r < nRows; r++) counts[r + 1]! += counts[r]!;
  const order = new Int32Array(rows.length);
  const fill = counts.slice(0, nRows);
  for (let e = 0; e < rows.length; e++) order[fill[rows[e]!]!++] = e;
  const indptr = new Int32Array(nRows + 1);
  const indices: number[] = [];
  const vals: number[] = [];
  for (let r = 0; r < nRows; r++) {
    const start = counts[r]!;
    const end = counts[r + 1]!;
    const slice = Array.from(order.subarray(start, end)).sort((a, b) => cols[a]! - cols[b]!);
    let last = -1;
    for (const e of slice) {
      const c = cols[e]!;
      if (c === last) vals[vals.length - 1]! += values[e]!;
      else {
        indices.push(c);
        vals.push(values[e]!);
        last = c;
      }
    }
    indptr[r + 1] = indices.length;
  }
  return { nRows, nCols, indptr, indices: Int32Array.from(indices), values: Float64Array.from(vals) };
}

export function transpose(m: Csr): Csr {
  const rows = new Int32Array(m.indices.length);
  for (let r = 0; r < m.nRows; r++) rows.fill(r, m.indptr[r], m.indptr[r + 1]);
  return toCsr(m.indices, rows, m.values, m.nCols, m.nRows);
}

/** User × item matrix of summed interaction weights. */
export function userItemMatrix(data: InteractionSet): Csr {
  return toCsr(data.users, data.items, data.weights, data.nUsers, data.nItems);
}

/**
 * Indices of the k highest scores (descending), skipping excluded items and non-positive scores
 * (no evidence is not a recommendation). A small binary heap keeps it O(n log k).
 */
export function topK(
  scores: Float64Array,
  k: number,
  exclude?: { has(item: number): boolean },
  allowZero = false,
): number[] {
  const heap: number[] = [];
  const less = (a: number, b: number) => scores[a]! < scores[b]! || (scores[a] === scores[b] && a > b);
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (!(s > 0) && !(allowZero && s === 0)) continue;
    if (exclude?.has(i)) continue;
    if (heap.length < k) {
      heap.push(i);
      up(heap.length - 1);
    } else if (k > 0 && less(heap[0]!, i)) {
      heap[0] = i;
      down(0);
    }
  }
  return heap.sort((a, b) => scores[b]! - scores[a]! || a - b);
}

/** Keeps the k best entries of each row of a dense similarity accumulator (used by item-kNN/content). */
export function neighboursFromRows(
  nItems: number,
  k: number,
  rowOf: (item: number, acc: Float64Array) => void,
): Neighbours {
  const acc = new Float64Array(nItems);
  const indptr = new Int32Array(nItems + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < nItems; i++) {
    acc.fill(0);
    rowOf(i, acc);
    acc[i] = 0;
    for (const j of topK(acc, k)) {
      indices.push(j);
      values.push(acc[j]!);
    }
    indptr[i + 1] = indices.length;
  }
  return { nItems, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
}

/** Score of every item: Σ over history items j of weight_j · sim(j, i). */
export function scoreFromNeighbours(nb: Neighbours, history: History): Float64Array {
  const out = new Float64Array(nb.nItems);
  for (let h = 0; h < history.items.length; h++) {
    const j = history.items[h]!;
    const w = history.weights[h] ?? 1;
    if (j < 0 || j >= nb.nItems) continue;
    for (let p = nb.indptr[j]!; p < nb.indptr[j + 1]!; p++) out[nb.indices[p]!]! += w * nb.values[p]!;
  }
  return out;
}

/** Similarity of two items from a neighbour list (0 when not neighbours). */
export function neighbourSimilarity(nb: Neighbours, a: number, b: number): number {
  for (let p = nb.indptr[a]!; p < nb.indptr[a + 1]!; p++) if (nb.indices[p] === b) return nb.values[p]!;
  for (let p = nb.indptr[b]!; p < nb.indptr[b + 1]!; p++) if (nb.indices[p] === a) return nb.values[p]!;
  return 0;
}

/** Merges duplicate items of a history (summing weights) — item-based models treat it as a bag. */
export function bagOf(history: History): Map<number, number> {
  const bag = new Map<number, number>();
  for (let h = 0; h < history.items.length; h++) {
    const i = history.items[h]!;
    bag.set(i, (bag.get(i) ?? 0) + (history.weights[h] ?? 1));
  }
  return bag;
}

/**
 * `topK` restricted to a candidate list: the k candidates with the highest positive scores (descending,
 * ties by index), skipping excluded ones. Serving uses it on the few hundred items a request touches.
 */
export function topKAmong(
  candidates: readonly number[],
  scores: Float64Array,
  k: number,
  exclude?: (item: number) => boolean,
): number[] {
  if (k <= 0) return [];
  // A binary min-heap of item indices ("smaller" = lower score, or equal score and higher index).
  const heap = new Int32Array(Math.min(k, candidates.length));
  let size = 0;
  for (let c = 0; c < candidates.length; c++) {
    const i = candidates[c]!;
    const s = scores[i]!;
    if (!(s > 0)) continue;
    if (size === k) {
      const r = heap[0]!;
      const sr = scores[r]!;
      // Not better than the worst kept: skip before the (costlier) exclusion check.
      if (s < sr || (s === sr && i > r)) continue;
    }
    if (exclude !== undefined && exclude(i)) continue;
    if (size < k) {
      let x = size++;
      while (x > 0) {
        const p = (x - 1) >> 1;
        const hp = heap[p]!;
        const sp = scores[hp]!;
        if (!(s < sp || (s === sp && i > hp))) break;
        heap[x] = hp;
        x = p;
      }
      heap[x] = i;
    } else {
      let x = 0;
      for (;;) {
        const l = 2 * x + 1;
        if (l >= size) break;
        let m = l;
        const r = l + 1;
        if (r < size) {
          const hl = heap[l]!;
          const hr = heap[r]!;
          if (scores[hr]! < scores[hl]! || (scores[hr] === scores[hl] && hr > hl)) m = r;
        }
        const hm = heap[m]!;
        const sm = scores[hm]!;
        if (!(sm < s || (sm === s && hm > i))) break;
        heap[x] = hm;
        x = m;
      }
      heap[x] = i;
    }
  }
  return Array.from(heap.subarray(0, size)).sort((a, b) => scores[b]! - scores[a]! || a - b);
}
