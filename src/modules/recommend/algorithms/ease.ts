/**
 * EASE (Steck 2019): B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹, diag(B) = 0. Closed form on a dense
 * Float64Array Gram matrix inverted in place (Cholesky). Past `maxDenseItems` items the dense inverse costs
 * too much time and memory (n² doubles, n³ flops), so each item gets a local EASE over its `localK`
 * most co-occurring items instead — a kNN-restricted variant that stays linear in the catalogue size.
 */
import { bagOf, transpose, userItemMatrix } from './sparse.ts';
import type { InteractionSet, Neighbours, Recommender } from './types.ts';

export type EaseOptions = {
  lambda?: number;
  /** Above this many items the kNN-restricted variant is used. */
  maxDenseItems?: number;
  /** Neighbourhood size of the restricted variant. */
  localK?: number;
  /**
   * The restricted variant keeps a dense copy of the Gram matrix up to this many items (faster block
   * reads; 5,792 items is 256 MiB) and reads blocks from sparse rows above it.
   */
  denseGramItems?: number;
  /** Binarise the interaction matrix (EASE's original setting); otherwise log-dampened weights. */
  binary?: boolean;
};

/** Inverts a symmetric positive-definite n×n matrix in place (Cholesky, then L⁻ᵀL⁻¹). */
export function invertSpd(a: Float64Array, n: number): void {
  // Cholesky: a = L Lᵀ, L stored in the lower triangle.
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j]!;
    for (let k = 0; k < j; k++) d -= a[rj + k]! ** 2;
    if (!(d > 0)) throw new Error('matrix is not positive definite; increase lambda');
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j]!;
      for (let k = 0; k < j; k++) s -= a[ri + k]! * a[rj + k]!;
      a[ri + j] = s / ljj;
    }
  }
  // L⁻¹ in the lower triangle (forward substitution column by column).
  for (let j = 0; j < n; j++) {
    a[j * n + j] = 1 / a[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      const ri = i * n;
      for (let k = j; k < i; k++) s -= a[ri + k]! * a[k * n + j]!;
      a[ri + j] = s / a[ri + i]!;
    }
  }
  // A⁻¹ = L⁻ᵀ L⁻¹: (i, j) with i ≥ j is Σ_{k ≥ i} L⁻¹[k,i]·L⁻¹[k,j]. Rows of L⁻¹ read contiguously.
  const inv = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let i = 0; i <= k; i++) {
      const lki = a[rk + i]!;
      if (lki === 0) continue;
      const ri = i * n;
      for (let j = 0; j <= i; j++) inv[ri + j]! += lki * a[rk + j]!;
    }
  }
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      a[i * n + j] = inv[i * n + j]!;
      a[j * n + i] = inv[i * n + j]!;
    }
}

export type EaseModel = Recommender & { readonly variant: 'dense' | 'knn' };

export function trainEase(data: InteractionSet, options: EaseOptions = {}): EaseModel {
  const lambda = options.lambda ?? 250;
  const n = data.nItems;
  let ui = userItemMatrix(data);
  ui = { ...ui, values: ui.values.map((v) => (options.binary === false ? Math.log1p(v) : 1)) };
  if (n <= (options.maxDenseItems ?? 6000)) {
    const g = new Float64Array(n * n);
    for (let u = 0; u < ui.nRows; u++) {
      const s = ui.indptr[u]!;
      const e = ui.indptr[u + 1]!;
      for (let p = s; p < e; p++) {
        const i = ui.indices[p]!;
        const wi = ui.values[p]!;
        const ri = i * n;
        for (let q = s; q < e; q++) g[ri + ui.indices[q]!]! += wi * ui.values[q]!;
      }
    }
    for (let i = 0; i < n; i++) g[i * n + i]! += lambda;
    invertSpd(g, n);
    // B[i][j] = −P[i][j] / P[j][j]; scoring reads rows of B for history items.
    const diag = new Float64Array(n);
    for (let j = 0; j < n; j++) diag[j] = g[j * n + j]!;
    for (let i = 0; i < n; i++) {
      const ri = i * n;
      for (let j = 0; j < n; j++) g[ri + j] = i === j ? 0 : -g[ri + j]! / diag[j]!;
    }
    return {
      name: 'ease',
      variant: 'dense',
      nItems: n,
      score: (history) => {
        const out = new Float64Array(n);
        for (const [i, w] of bagOf(history)) {
          if (i < 0 || i >= n) continue;
          const x = options.binary === false ? Math.log1p(w) : 1;
          const ri = i * n;
          for (let j = 0; j < n; j++) out[j]! += x * g[ri + j]!;
        }
        return out;
      },
    };
  }
  const nb = localEase(
    ui.indptr,
    ui.indices,
    ui.values,
    ui.nRows,
    n,
    lambda,
    options.localK ?? 128,
    options.denseGramItems ?? 5792,
  );
  return {
    name: 'ease',
    variant: 'knn',
    nItems: n,
    score: (history) => {
      const out = new Float64Array(n);
      for (const [i, w] of bagOf(history)) {
        if (i < 0 || i >= n) continue;
        const x = options.binary === false ? Math.log1p(w) : 1;
        for (let p = nb.indptr[i]!; p < nb.indptr[i + 1]!; p++) out[nb.indices[p]!]! += x * nb.values[p]!;
      }
      return out;
    },
  };
}

/**
 * Item × item Gram matrix XᵀX in compressed rows, by co-occurrence counting: each user adds the products
 * of its items' weights into a dense accumulator for one item row at a time (touched columns tracked, so
 * clearing costs only what was written). Memory is the number of co-occurring pairs, not n².
 */
export function sparseGram(
  indptr: Int32Array,
  indices: Int32Array,
  values: Float64Array,
  nUsers: number,
  n: number,
): { indptr: Int32Array; indices: Int32Array; values: Float64Array } {
  const iu = transpose({ nRows: nUsers, nCols: n, indptr, indices, values });
  const acc = new Float64Array(n);
  const touched = new Int32Array(n);
  const mark = new Uint8Array(n);
  const ptr = new Int32Array(n + 1);
  let cols = new Int32Array(1 << 16);
  let vals = new Float64Array(1 << 16);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    let t = 0;
    for (let p = iu.indptr[i]!; p < iu.indptr[i + 1]!; p++) {
      const u = iu.indices[p]!;
      const wi = iu.values[p]!;
      for (let q = indptr[u]!; q < indptr[u + 1]!; q++) {
        const c = indices[q]!;
        if (!mark[c]) {
          mark[c] = 1;
          touched[t++] = c;
        }
        acc[c]! += wi * values[q]!;
      }
    }
    if (nnz + t > cols.length) {
      const size = Math.max(cols.length * 2, nnz + t);
      const c2 = new Int32Array(size);
      c2.set(cols.subarray(0, nnz));
      const v2 = new Float64Array(size);
      v2.set(vals.subarray(0, nnz));
      cols = c2;
      vals = v2;
    }
    for (let x = 0; x < t; x++) {
      const c = touched[x]!;
      cols[nnz] = c;
      vals[nnz++] = acc[c]!;
      acc[c] = 0;
      mark[c] = 0;
    }
    ptr[i + 1] = nnz;
  }
  return { indptr: ptr, indices: cols.slice(0, nnz), values: vals.slice(0, nnz) };
}

/**
 * For each target item j, solves the ridge regression of column j on its k most co-occurring items,
 * (G_NN + λI) b = G_Nj, and stores b as the weights from those items to j (B[i][j]). The Gram matrix is
 * computed once (`sparseGram`); each neighbourhood's block is gathered from a dense copy, or (large
 * catalogues) read from its sparse rows through a position map, so a target costs O(k² + k³/3) or
 * O(k · row length + k³/3), never a pass over its users.
 */
function localEase(
  indptr: Int32Array,
  indices: Int32Array,
  values: Float64Array,
  nUsers: number,
  n: number,
  lambda: number,
  k: number,
  denseGramItems: number,
): Neighbours {
  const gram = sparseGram(indptr, indices, values, nUsers, n);
  // A dense copy makes each block a k² gather instead of k row scans.
  let dense: Float64Array | null = null;
  if (n <= denseGramItems) {
    dense = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let p = gram.indptr[i]!; p < gram.indptr[i + 1]!; p++)
        dense[i * n + gram.indices[p]!] = gram.values[p]!;
  }
  const row = new Float64Array(n);
  const pos = new Int32Array(n).fill(-1);
  const counts = new Int32Array(n);
  const targets: Int32Array[] = new Array<Int32Array>(n);
  const weights: Float64Array[] = new Array<Float64Array>(n);
  const g = new Float64Array(k * k);
  for (let j = 0; j < n; j++) {
    const s = gram.indptr[j]!;
    const e = gram.indptr[j + 1]!;
    for (let p = s; p < e; p++) row[gram.indices[p]!] = gram.values[p]!;
    row[j] = 0;
    const nbrs = topKOf(gram.indices, s, e, row, k);
    const m = nbrs.length;
    if (m > 0) {
      g.fill(0, 0, m * m);
      if (dense) {
        for (let x = 0; x < m; x++) {
          const ra = nbrs[x]! * n;
          const rx = x * m;
          for (let y = 0; y < m; y++) g[rx + y] = dense[ra + nbrs[y]!]!;
          g[rx + x]! += lambda;
        }
      } else {
        for (let x = 0; x < m; x++) pos[nbrs[x]!] = x;
        for (let x = 0; x < m; x++) {
          const a = nbrs[x]!;
          const rx = x * m;
          for (let p = gram.indptr[a]!; p < gram.indptr[a + 1]!; p++) {
            const y = pos[gram.indices[p]!]!;
            if (y >= 0) g[rx + y] = gram.values[p]!;
          }
          g[rx + x]! += lambda;
        }
        for (let x = 0; x < m; x++) pos[nbrs[x]!] = -1;
      }
      const rhs = Float64Array.from(nbrs, (it) => row[it]!);
      const b = solveSpd(g.subarray(0, m * m), m, rhs);
      targets[j] = nbrs;
      weights[j] = b;
      for (let x = 0; x < m; x++) counts[nbrs[x]!]!++;
    }
    for (let p = s; p < e; p++) row[gram.indices[p]!] = 0;
  }
  // Transpose target → neighbours into source → targets (B[i][j] is read by history item i).
  const ptr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) ptr[i + 1] = ptr[i]! + counts[i]!;
  const fill = ptr.slice(0, n);
  const outIdx = new Int32Array(ptr[n]!);
  const outVal = new Float32Array(ptr[n]!);
  for (let j = 0; j < n; j++) {
    const nbrs = targets[j];
    if (!nbrs) continue;
    const b = weights[j]!;
    for (let x = 0; x < nbrs.length; x++) {
      const at = fill[nbrs[x]!]!++;
      outIdx[at] = j;
      outVal[at] = b[x]!;
    }
  }
  return { nItems: n, indptr: ptr, indices: outIdx, values: outVal };
}

/** The k columns among `cols[s..e)` with the highest positive `row` value (partial selection by a heap). */
function topKOf(cols: Int32Array, s: number, e: number, row: Float64Array, k: number): Int32Array {
  const heap = new Int32Array(Math.min(k, e - s));
  let size = 0;
  const less = (a: number, b: number) => row[a]! < row[b]! || (row[a] === row[b] && a > b);
  for (let p = s; p < e; p++) {
    const c = cols[p]!;
    if (!(row[c]! > 0)) continue;
    if (size < heap.length) {
      let i = size++;
      heap[i] = c;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!less(heap[i]!, heap[parent]!)) break;
        const t = heap[i]!;
        heap[i] = heap[parent]!;
        heap[parent] = t;
        i = parent;
      }
    } else if (size > 0 && less(heap[0]!, c)) {
      heap[0] = c;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < size && less(heap[l]!, heap[m]!)) m = l;
        if (r < size && less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        const t = heap[i]!;
        heap[i] = heap[m]!;
        heap[m] = t;
        i = m;
      }
    }
  }
  return heap.slice(0, size).sort((a, b) => row[b]! - row[a]! || a - b);
}

/** Solves A x = b for symmetric positive-definite A (Cholesky); A is overwritten. */
export function solveSpd(a: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= a[j * n + k]! ** 2;
    const ljj = Math.sqrt(Math.max(d, 1e-12));
    a[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= a[i * n + k]! * a[j * n + k]!;
      a[i * n + j] = s / ljj;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= a[i * n + k]! * y[k]!;
    y[i] = s / a[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= a[k * n + i]! * x[k]!;
    x[i] = s / a[i * n + i]!;
  }
  return x;
}
