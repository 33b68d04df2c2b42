/**
 * Ranking metrics for `candor evaluate fraud`: ROC-AUC (tie-aware, Mann–Whitney), PR-AUC as average precision
 * (step-wise, tied scores form one threshold), and recall at a false-positive-rate budget.
 */

export type Labelled = { score: number; label: 0 | 1 };

/** Groups of equal score, highest first, with how many positives and negatives each holds. */
function thresholds(rows: readonly Labelled[]): { score: number; pos: number; neg: number }[] {
  const sorted = [...rows].sort((a, b) => b.score - a.score);
  const groups: { score: number; pos: number; neg: number }[] = [];
  for (const r of sorted) {
    const last = groups.at(-1);
    if (last && last.score === r.score) {
      if (r.label === 1) last.pos++;
      else last.neg++;
    } else groups.push({ score: r.score, pos: r.label === 1 ? 1 : 0, neg: r.label === 1 ? 0 : 1 });
  }
  return groups;
}

/** Area under the ROC curve; ties count one half. NaN without both classes. */
export function rocAuc(rows: readonly Labelled[]): number {
  const P = rows.filter((r) => r.label === 1).length;
  const N = rows.length - P;
  if (P === 0 || N === 0) return NaN;
  let negBelow = N;
  let sum = 0;
  for (const g of thresholds(rows)) {
    negBelow -= g.neg;
    sum += g.pos * (negBelow + g.neg / 2);
  }
  return sum / (P * N);
}

/** Average precision: Σ (recall_k − recall_{k−1}) · precision_k over score thresholds. NaN without positives. */
export function prAuc(rows: readonly Labelled[]): number {
  const P = rows.filter((r) => r.label === 1).length;
  if (P === 0) return NaN;
  let tp = 0;
  let fp = 0;
  let ap = 0;
  for (const g of thresholds(rows)) {
    tp += g.pos;
    fp += g.neg;
    ap += (g.pos / P) * (tp / (tp + fp));
  }
  return ap;
}

/**
 * The highest recall reachable by flagging every score at or above some threshold while the false-positive
 * rate stays at or below `maxFpr`.
 */
export function recallAtFpr(rows: readonly Labelled[], maxFpr: number): number {
  const P = rows.filter((r) => r.label === 1).length;
  const N = rows.length - P;
  if (P === 0 || N === 0) return NaN;
  let tp = 0;
  let fp = 0;
  let best = 0;
  for (const g of thresholds(rows)) {
    tp += g.pos;
    fp += g.neg;
    if (fp / N > maxFpr) break;
    best = tp / P;
  }
  return best;
}

export type MetricSet = { prAuc: number; rocAuc: number; recallAt1pctFpr: number; recallAt5pctFpr: number };

export function metricSet(rows: readonly Labelled[]): MetricSet {
  const r = (x: number) => Math.round(x * 10_000) / 10_000;
  return {
    prAuc: r(prAuc(rows)),
    rocAuc: r(rocAuc(rows)),
    recallAt1pctFpr: r(recallAtFpr(rows, 0.01)),
    recallAt5pctFpr: r(recallAtFpr(rows, 0.05)),
  };
}
