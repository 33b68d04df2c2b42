import { describe, expect, it } from 'vitest';
import { trainContent, tokenize } from './content.ts';
import { invertSpd, trainEase } from './ease.ts';
import { blend } from './hybrid.ts';
import { trainItemKnn } from './item-knn.ts';
import { gini, intraListDiversity, novelty, rankingMetrics, seededRandom } from './metrics.ts';
import { mmrRerank } from './mmr.ts';
import { trainPopularity } from './popularity.ts';
import { trainSequentialRules, trainVsknn } from './session-knn.ts';
import { topK } from './sparse.ts';
import type { InteractionSet } from './types.ts';

/** Builds an interaction set from [user, item, time, session?] rows. */
function set(rows: [number, number, number, number?][], nItems: number): InteractionSet {
  return {
    nUsers: Math.max(...rows.map((r) => r[0])) + 1,
    nItems,
    users: Int32Array.from(rows, (r) => r[0]),
    items: Int32Array.from(rows, (r) => r[1]),
    weights: Float64Array.from(rows, () => 1),
    times: Float64Array.from(rows, (r) => r[2]),
    sessions: Int32Array.from(rows, (r) => r[3] ?? r[0]),
  };
}

const one = (item: number) => ({ items: [item], weights: [1] });

describe('ranking metrics (hand-computed)', () => {
  it('scores a list with hits at ranks 1 and 3 out of 3 relevant items', () => {
    const m = rankingMetrics([5, 7, 9, 1], new Set([5, 9, 4]), 4);
    expect(m.precision).toBeCloseTo(2 / 4);
    expect(m.recall).toBeCloseTo(2 / 3);
    // DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) + 1/log2(4) = 2.1309
    expect(m.ndcg).toBeCloseTo(1.5 / (1 + 1 / Math.log2(3) + 0.5), 6);
    expect(m.hr).toBe(1);
    expect(m.mrr).toBe(1);
  });

  it('gives MRR 1/rank of the first hit and zero when nothing hits', () => {
    expect(rankingMetrics([1, 2, 3], new Set([3]), 3).mrr).toBeCloseTo(1 / 3);
    expect(rankingMetrics([1, 2, 3], new Set([3]), 3).ndcg).toBeCloseTo(1 / Math.log2(4));
    expect(rankingMetrics([1, 2, 3], new Set([3]), 2)).toEqual({
      precision: 0,
      recall: 0,
      ndcg: 0,
      hr: 0,
      mrr: 0,
    });
  });

  it('computes diversity, novelty and Gini', () => {
    expect(intraListDiversity([1, 2, 3], (a, b) => (a + b === 3 ? 1 : 0))).toBeCloseTo(2 / 3);
    // items seen by 5 and 10 of 10 users: (−log2 0.5 − log2 1) / 2 = 0.5
    expect(novelty([0, 1], [5, 10], 10)).toBeCloseTo(0.5);
    expect(gini([1, 1, 1, 1])).toBeCloseTo(0);
    expect(gini([0, 0, 0, 4])).toBeCloseTo(0.75);
  });
});

describe('topK', () => {
  it('returns the best items in order, skipping excluded and zero scores', () => {
    const s = Float64Array.from([0.1, 0, 0.9, 0.5, 0.7]);
    expect(topK(s, 3)).toEqual([2, 4, 3]);
    expect(topK(s, 3, new Set([4]))).toEqual([2, 3, 0]);
    expect(topK(s, 10)).toEqual([2, 4, 3, 0]);
  });
});

describe('EASE', () => {
  it('inverts a symmetric positive-definite matrix', () => {
    const a = Float64Array.from([4, 1, 2, 1, 3, 0, 2, 0, 5]);
    const inv = a.slice();
    invertSpd(inv, 3);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += a[i * 3 + k]! * inv[k * 3 + j]!;
        expect(s).toBeCloseTo(i === j ? 1 : 0, 10);
      }
  });

  it('recommends the item that co-occurs with the history, dense and kNN-restricted alike', () => {
    // Items 0 and 1 go together, 2 and 3 go together.
    const rows: [number, number, number][] = [];
    for (let u = 0; u < 20; u++) {
      const pair = u % 2 === 0 ? [0, 1] : [2, 3];
      for (const i of pair) rows.push([u, i, u]);
    }
    rows.push([20, 0, 99]);
    const data = set(rows, 4);
    for (const maxDenseItems of [100, 2]) {
      const ease = trainEase(data, { lambda: 1, maxDenseItems, localK: 3 });
      expect(ease.variant).toBe(maxDenseItems === 100 ? 'dense' : 'knn');
      expect(topK(ease.score(one(0)), 1)).toEqual([1]);
      expect(topK(ease.score(one(3)), 1)).toEqual([2]);
    }
  });

  it('kNN-restricted EASE with a full neighbourhood equals the dense closed form (dense and sparse Gram reads)', () => {
    // Every item co-occurs with every other (a shared item 0), so the full neighbourhood is all items and
    // the per-column ridge regressions are exactly EASE's closed form.
    const rnd = seededRandom(7);
    const rows: [number, number, number][] = [];
    for (let u = 0; u < 40; u++) {
      rows.push([u, 0, u]);
      for (let i = 1; i < 8; i++) if (rnd() < 0.5) rows.push([u, i, u]);
    }
    const data = set(rows, 8);
    const dense = trainEase(data, { lambda: 5, maxDenseItems: 100 });
    for (const denseGramItems of [100, 0]) {
      const knn = trainEase(data, { lambda: 5, maxDenseItems: 2, localK: 7, denseGramItems });
      expect(knn.variant).toBe('knn');
      for (let i = 0; i < 8; i++) {
        const a = dense.score(one(i));
        const b = knn.score(one(i));
        for (let j = 0; j < 8; j++) expect(b[j]).toBeCloseTo(a[j]!, 5);
      }
    }
  });
});

describe('item-kNN, popularity and the blender', () => {
  const rows: [number, number, number][] = [
    [0, 0, 1],
    [0, 1, 2],
    [1, 0, 3],
    [1, 1, 4],
    [2, 2, 5],
    [2, 3, 6],
    [3, 2, 7],
    [3, 0, 8],
    [4, 4, 100],
  ];
  it('finds co-occurring items with cosine and BM25', () => {
    for (const normalisation of ['cosine', 'bm25'] as const) {
      const knn = trainItemKnn(set(rows, 5), { normalisation });
      expect(topK(knn.score(one(1)), 1)).toEqual([0]);
      expect(knn.score(one(4))[0]).toBe(0);
    }
  });

  it('decays old interactions so recent items are trending', () => {
    const data = set(
      [
        [0, 0, 0],
        [1, 0, 0],
        [2, 1, 10 * 86_400_000],
      ],
      2,
    );
    expect(topK(trainPopularity(data).score(one(0)), 2)).toEqual([0, 1]);
    expect(topK(trainPopularity(data, { halfLifeMs: 86_400_000 }).score(one(0)), 2)).toEqual([1, 0]);
  });

  it('blends models scaled to their maximum', () => {
    const data = set(rows, 5);
    const h = blend('h', [
      { model: trainItemKnn(data), weight: 1 },
      { model: trainPopularity(data), weight: 0.01 },
    ]);
    const s = h.score(one(1));
    expect(topK(s, 1)).toEqual([0]);
    expect(s[4]).toBeGreaterThan(0);
  });
});

describe('session models', () => {
  // Sessions follow the pattern 0 → 1 → 2 and 5 → 6 → 7.
  const rows: [number, number, number, number][] = [];
  for (let s = 0; s < 30; s++) {
    const path = s % 2 === 0 ? [0, 1, 2] : [5, 6, 7];
    path.forEach((item, p) => rows.push([s, item, s * 100 + p, s]));
  }
  const data = set(rows, 8);

  it('V-SKNN recommends what neighbouring sessions went on to', () => {
    const m = trainVsknn(data, { k: 50, sampleSize: 100, remind: false });
    expect(topK(m.score({ items: [5, 6], weights: [1, 1] }), 1)).toEqual([7]);
    expect(m.score({ items: [5, 6], weights: [1, 1] })[0]).toBe(0);
  });

  it('sequential rules follow the last click', () => {
    const m = trainSequentialRules(data);
    expect(topK(m.score({ items: [5, 0], weights: [1, 1] }), 2)).toEqual([1, 2]);
  });
});

describe('content similarity', () => {
  it('segments Chinese into words and matches across languages by brand and category', () => {
    expect(tokenize('帆布鞋白色')).toEqual(['帆布鞋', '白色']);
    expect(tokenize('Sepatu KANVAS hitam', 'id')).toEqual(['sepatu', 'kanvas', 'hitam']);
    const m = trainContent([
      { title: { zh: '白色帆布鞋', en: 'White canvas sneakers' }, categories: ['shoes'], brand: 'Acme' },
      { title: { zh: '黑色帆布鞋', id: 'Sepatu kanvas hitam' }, categories: ['shoes'], brand: 'Acme' },
      { title: { en: 'Stainless steel kettle' }, categories: ['kitchen'], brand: 'Boil' },
    ]);
    const s = m.score(one(0));
    expect(topK(s, 1)).toEqual([1]);
    expect(s[2]).toBe(0);
  });
});

describe('MMR', () => {
  const candidates = [
    { item: 0, score: 1 },
    { item: 1, score: 0.95 },
    { item: 2, score: 0.5 },
  ];
  const sim = (a: number, b: number) => (a + b === 1 ? 1 : 0);
  it('keeps the ranking at λ = 1 and spreads similar items at lower λ', () => {
    expect(mmrRerank(candidates, 2, 1, sim).map((c) => c.item)).toEqual([0, 1]);
    expect(mmrRerank(candidates, 2, 0.3, sim).map((c) => c.item)).toEqual([0, 2]);
  });
});
