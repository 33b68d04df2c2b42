/**
 * Ranking metrics. Definitions (binary relevance, as in Microsoft Recommenders and session-rec):
 * Precision@k = hits/k; Recall@k = hits/|relevant|; NDCG@k = DCG/IDCG with gain 1/log2(rank+1) and the
 * ideal list holding min(k, |relevant|) hits; HR@k = 1 if any hit; MRR@k = 1/rank of the first hit.
 */
export type RankingMetrics = { precision: number; recall: number; ndcg: number; hr: number; mrr: number };

export function rankingMetrics(
  ranked: readonly number[],
  relevant: ReadonlySet<number>,
  k: number,
): RankingMetrics {
  let hits = 0;
  let dcg = 0;
  let firstHit = 0;
  const top = Math.min(k, ranked.length);
  for (let r = 0; r < top; r++) {
    if (!relevant.has(ranked[r]!)) continue;
    hits++;
    dcg += 1 / Math.log2(r + 2);
    if (firstHit === 0) firstHit = r + 1;
  }
  let idcg = 0;
  for (let r = 0; r < Math.min(k, relevant.size); r++) idcg += 1 / Math.log2(r + 2);
  return {
    precision: hits / k,
    recall: relevant.size > 0 ? hits / relevant.size : 0,
    ndcg: idcg > 0 ? dcg / idcg : 0,
    hr: hits > 0 ? 1 : 0,
    mrr: firstHit > 0 ? 1 / firstHit : 0,
  };
}

/** Mean of 1 − sim over the pairs of one list. */
export function intraListDiversity(
  list: readonly number[],
  similarity: (a: number, b: number) => number,
): number {
  let sum = 0;
  let pairs = 0;
  for (let a = 0; a < list.length; a++)
    for (let b = a + 1; b < list.length; b++) {
      sum += 1 - similarity(list[a]!, list[b]!);
      pairs++;
    }
  return pairs > 0 ? sum / pairs : 0;
}

/** Mean self-information −log2(p(i)) of the recommended items, p(i) = share of users who had item i. */
export function novelty(list: readonly number[], itemUsers: ArrayLike<number>, nUsers: number): number {
  if (list.length === 0) return 0;
  let s = 0;
  for (const i of list) s -= Math.log2(Math.max(itemUsers[i]!, 1) / Math.max(nUsers, 1));
  return s / list.length;
}

/** Gini coefficient of non-negative exposures (0 = equal, → 1 = all exposure on one item). */
export function gini(values: readonly number[]): number {
  const xs = [...values].sort((a, b) => a - b);
  const n = xs.length;
  const total = xs.reduce((a, b) => a + b, 0);
  if (n === 0 || total === 0) return 0;
  let weighted = 0;
  xs.forEach((x, i) => (weighted += (i + 1) * x));
  return (2 * weighted) / (n * total) - (n + 1) / n;
}

/** Deterministic PRNG (mulberry32) so splits and samples repeat across runs. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
