/**
 * Item-kNN on implicit feedback. Similarities come from the user × item matrix of event-type weights,
 * optionally BM25-weighted (as `implicit` does) before cosine, and only the k nearest neighbours of each
 * item are kept, so "bought together" and "similar" are a lookup.
 */
import { neighboursFromRows, scoreFromNeighbours, transpose, userItemMatrix, type Csr } from './sparse.ts';
import type { InteractionSet, Neighbours, Recommender } from './types.ts';

export type ItemKnnOptions = {
  /** Neighbours kept per item. */
  k?: number;
  normalisation?: 'cosine' | 'bm25';
  /** BM25 parameters (as in `implicit.nearest_neighbours.bm25_weight`). */
  k1?: number;
  b?: number;
  /** Shrinks similarities supported by few co-occurrences: sim · n / (n + shrink). */
  shrink?: number;
};

export type ItemKnnModel = Recommender & { readonly neighbours: Neighbours };

/** BM25 weighting of a user × item matrix: rows are documents, items are terms. */
export function bm25(m: Csr, k1 = 100, b = 0.8): Csr {
  const df = new Float64Array(m.nCols);
  for (const c of m.indices) df[c]!++;
  const avgLen = m.indices.length / Math.max(1, m.nRows);
  const values = new Float64Array(m.values.length);
  for (let r = 0; r < m.nRows; r++) {
    const len = m.indptr[r + 1]! - m.indptr[r]!;
    const norm = k1 * (1 - b + (b * len) / Math.max(avgLen, 1e-9));
    for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) {
      const idf = Math.log(m.nRows) - Math.log1p(df[m.indices[p]!]!);
      values[p] = ((m.values[p]! * (k1 + 1)) / (m.values[p]! + norm)) * Math.max(idf, 0);
    }
  }
  return { ...m, values };
}

export function trainItemKnn(data: InteractionSet, options: ItemKnnOptions = {}): ItemKnnModel {
  const k = options.k ?? 100;
  const shrink = options.shrink ?? 0;
  let ui = userItemMatrix(data);
  // Repeated clicks should not swamp a purchase: dampen raw weight sums.
  ui = { ...ui, values: ui.values.map((v) => Math.log1p(v)) };
  if (options.normalisation === 'bm25') ui = bm25(ui, options.k1, options.b);
  const iu = transpose(ui);
  const norms = new Float64Array(data.nItems);
  for (let i = 0; i < data.nItems; i++) {
    let s = 0;
    for (let p = iu.indptr[i]!; p < iu.indptr[i + 1]!; p++) s += iu.values[p]! ** 2;
    norms[i] = Math.sqrt(s);
  }
  const counts = shrink > 0 ? new Float64Array(data.nItems) : null;
  const neighbours = neighboursFromRows(data.nItems, k, (i, acc) => {
    counts?.fill(0);
    for (let p = iu.indptr[i]!; p < iu.indptr[i + 1]!; p++) {
      const u = iu.indices[p]!;
      const wi = iu.values[p]!;
      for (let q = ui.indptr[u]!; q < ui.indptr[u + 1]!; q++) {
        acc[ui.indices[q]!]! += wi * ui.values[q]!;
        if (counts) counts[ui.indices[q]!]!++;
      }
    }
    const ni = norms[i]!;
    for (let j = 0; j < acc.length; j++) {
      if (acc[j] === 0) continue;
      let s = acc[j]! / (ni * norms[j]! + 1e-12);
      if (counts) s *= counts[j]! / (counts[j]! + shrink);
      acc[j] = s;
    }
  });
  return {
    name: options.normalisation === 'bm25' ? 'item-knn-bm25' : 'item-knn',
    nItems: data.nItems,
    neighbours,
    score: (history) => scoreFromNeighbours(neighbours, history),
  };
}
