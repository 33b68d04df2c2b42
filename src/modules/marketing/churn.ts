/**
 * Churn risk: logistic regression on recency, frequency, monetary value and behaviour features, and its
 * honest evaluation on a temporal split beside an RFM-rule baseline. "Churned" means no order within the
 * horizon (default 90 days) after the cut-off; features only ever see orders before the cut-off.
 */

export type ChurnOrder = { customerId: string; ts: number; revenue: number; kind: 'order' | 'refund' };

export const CHURN_FEATURES = [
  'recency_days',
  'log_frequency',
  'log_monetary',
  'tenure_days',
  'orders_last_90d',
  'log_avg_order',
  'refunds',
  'gap_trend',
] as const;

export type ChurnModel = { weights: number[]; bias: number; mean: number[]; sd: number[] };

const DAY = 86_400_000;

type Customer = { x: number[]; rfm: [number, number, number]; label: 0 | 1 };

/** Features of every customer with an order before `cutoff`, labelled by whether they ordered in the horizon. */
export function churnDataset(orders: readonly ChurnOrder[], cutoff: number, horizonMs: number): Customer[] {
  const by = new Map<string, ChurnOrder[]>();
  for (const o of orders) {
    let l = by.get(o.customerId);
    if (!l) by.set(o.customerId, (l = []));
    l.push(o);
  }
  const out: Customer[] = [];
  for (const list of by.values()) {
    const before = list.filter((o) => o.ts < cutoff && o.kind === 'order');
    if (before.length === 0) continue;
    const after = list.some((o) => o.kind === 'order' && o.ts >= cutoff && o.ts < cutoff + horizonMs);
    const ts = before.map((o) => o.ts).sort((a, b) => a - b);
    const last = ts[ts.length - 1]!;
    const first = ts[0]!;
    const monetary = before.reduce((s, o) => s + Math.max(0, o.revenue), 0);
    const refunds = list.filter((o) => o.kind === 'refund' && o.ts < cutoff).length;
    const recency = (cutoff - last) / DAY;
    const tenure = (cutoff - first) / DAY;
    const recent = before.filter((o) => o.ts >= cutoff - 90 * DAY).length;
    // Is the customer slowing down? Last gap against their average gap.
    const avgGap = ts.length > 1 ? (last - first) / (ts.length - 1) / DAY : tenure;
    const gapTrend = Math.log1p(recency) - Math.log1p(avgGap);
    out.push({
      x: [
        recency,
        Math.log1p(before.length),
        Math.log1p(monetary / 100),
        tenure,
        recent,
        Math.log1p(monetary / 100 / before.length),
        refunds,
        gapTrend,
      ],
      rfm: [recency, before.length, monetary],
      label: after ? 0 : 1,
    });
  }
  return out;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Batch gradient descent with L2 on standardised features (deterministic: no random init). */
export function trainChurnModel(
  rows: readonly { x: number[]; label: 0 | 1 }[],
  epochs = 400,
  l2 = 1e-3,
): ChurnModel {
  const d = rows[0]?.x.length ?? CHURN_FEATURES.length;
  const mean = new Array<number>(d).fill(0);
  const sd = new Array<number>(d).fill(0);
  for (const r of rows) r.x.forEach((v, j) => (mean[j]! += v / rows.length));
  for (const r of rows) r.x.forEach((v, j) => (sd[j]! += (v - mean[j]!) ** 2 / rows.length));
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]!) || 1;
  const xs = rows.map((r) => r.x.map((v, j) => (v - mean[j]!) / sd[j]!));
  const w = new Array<number>(d).fill(0);
  let b = 0;
  const lr = 0.5;
  for (let e = 0; e < epochs; e++) {
    const gw = new Array<number>(d).fill(0);
    let gb = 0;
    xs.forEach((x, i) => {
      const err = sigmoid(x.reduce((s, v, j) => s + v * w[j]!, b)) - rows[i]!.label;
      for (let j = 0; j < d; j++) gw[j]! += err * x[j]!;
      gb += err;
    });
    for (let j = 0; j < d; j++) w[j]! -= lr * (gw[j]! / xs.length + l2 * w[j]!);
    b -= (lr * gb) / xs.length;
  }
  return { weights: w, bias: b, mean, sd };
}

export function predictChurn(model: ChurnModel, x: readonly number[]): number {
  return sigmoid(
    x.reduce((s, v, j) => s + ((v - model.mean[j]!) / model.sd[j]!) * model.weights[j]!, model.bias),
  );
}

type Scored = { score: number; label: 0 | 1 };

/** ROC-AUC by the rank-sum statistic (ties share ranks). */
export function rocAuc(rows: readonly Scored[]): number {
  const s = [...rows].sort((a, b) => a.score - b.score);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < s.length;) {
    let j = i;
    while (j < s.length && s[j]!.score === s[i]!.score) j++;
    const rank = (i + j + 1) / 2;
    for (let k = i; k < j; k++)
      if (s[k]!.label === 1) {
        pos++;
        rankSum += rank;
      }
    i = j;
  }
  const neg = s.length - pos;
  return pos && neg ? (rankSum - (pos * (pos + 1)) / 2) / (pos * neg) : Number.NaN;
}

/** PR-AUC as average precision. */
export function prAuc(rows: readonly Scored[]): number {
  const s = [...rows].sort((a, b) => b.score - a.score);
  const pos = s.filter((r) => r.label === 1).length;
  if (!pos) return Number.NaN;
  let tp = 0;
  let ap = 0;
  s.forEach((r, i) => {
    if (r.label === 1) {
      tp++;
      ap += tp / (i + 1);
    }
  });
  return ap / pos;
}

export type Calibration = {
  bins: { predicted: number; observed: number; n: number }[];
  brier: number;
  ece: number;
};

/** Ten equal-count bins of predicted probability versus the observed churn rate. */
export function calibration(rows: readonly Scored[], bins = 10): Calibration {
  const s = [...rows].sort((a, b) => a.score - b.score);
  const out: Calibration['bins'] = [];
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    const part = s.slice(Math.floor((b * s.length) / bins), Math.floor(((b + 1) * s.length) / bins));
    if (!part.length) continue;
    const predicted = part.reduce((a, r) => a + r.score, 0) / part.length;
    const observed = part.reduce((a, r) => a + r.label, 0) / part.length;
    ece += (part.length / s.length) * Math.abs(predicted - observed);
    out.push({ predicted, observed, n: part.length });
  }
  const brier = s.reduce((a, r) => a + (r.score - r.label) ** 2, 0) / Math.max(1, s.length);
  return { bins: out, brier, ece };
}

/** Quintile (1–5) of each value among `ref`. */
function quintiler(ref: readonly number[]): (v: number) => number {
  const sorted = [...ref].sort((a, b) => a - b);
  const cuts = [0.2, 0.4, 0.6, 0.8].map((q) => sorted[Math.floor(q * (sorted.length - 1))]!);
  return (v) => 1 + cuts.filter((c) => v > c).length;
}

/**
 * The classic RFM rule a shop would use without a model: R, F and M quintiles (from the training period),
 * churn score 15 − (R′ + F + M) where recent buyers get high R′; mapped to a probability by the training
 * churn rate of each score, so its calibration can be compared fairly.
 */
function rfmBaseline(train: readonly Customer[]): (c: Customer) => number {
  const qr = quintiler(train.map((c) => c.rfm[0]));
  const qf = quintiler(train.map((c) => c.rfm[1]));
  const qm = quintiler(train.map((c) => c.rfm[2]));
  const score = (c: Customer) => 15 - (6 - qr(c.rfm[0]) + qf(c.rfm[1]) + qm(c.rfm[2]));
  const rate = new Map<number, { n: number; y: number }>();
  for (const c of train) {
    const k = score(c);
    const r = rate.get(k) ?? { n: 0, y: 0 };
    r.n++;
    r.y += c.label;
    rate.set(k, r);
  }
  const overall = train.reduce((a, c) => a + c.label, 0) / Math.max(1, train.length);
  return (c) => {
    const r = rate.get(score(c));
    // Smoothed towards the overall rate so a thin score bucket does not give 0 or 1.
    return r ? (r.y + 5 * overall) / (r.n + 5) : overall;
  };
}

export type ChurnReport = {
  horizonDays: number;
  split: {
    train: { cutoff: string; customers: number; churnRate: number };
    test: { cutoff: string; customers: number; churnRate: number };
  };
  results: Record<
    'model' | 'rfm_baseline',
    { rocAuc: number; prAuc: number; brier: number; ece: number; calibration: Calibration['bins'] }
  >;
  features: Record<string, number>;
};

/**
 * Temporal evaluation: train on features at `end − 2·horizon` labelled by the next horizon, test on features
 * at `end − horizon` labelled by the final horizon. No test-period order is ever seen in training.
 */
export function evaluateChurn(orders: readonly ChurnOrder[], horizonDays = 90): ChurnReport {
  if (orders.length === 0) throw new Error('No orders with a customer id to evaluate on.');
  const end = orders.reduce((m, o) => Math.max(m, o.ts), 0) + 1;
  const horizon = horizonDays * DAY;
  const trainCut = end - 2 * horizon;
  const testCut = end - horizon;
  const train = churnDataset(orders, trainCut, horizon);
  const test = churnDataset(orders, testCut, horizon);
  const model = trainChurnModel(train);
  const baseline = rfmBaseline(train);
  const summary = (rows: Scored[]) => {
    const cal = calibration(rows);
    return {
      rocAuc: rocAuc(rows),
      prAuc: prAuc(rows),
      brier: cal.brier,
      ece: cal.ece,
      calibration: cal.bins,
    };
  };
  const rate = (c: Customer[]) => c.reduce((a, x) => a + x.label, 0) / Math.max(1, c.length);
  return {
    horizonDays,
    split: {
      train: { cutoff: new Date(trainCut).toISOString(), customers: train.length, churnRate: rate(train) },
      test: { cutoff: new Date(testCut).toISOString(), customers: test.length, churnRate: rate(test) },
    },
    results: {
      model: summary(test.map((c) => ({ score: predictChurn(model, c.x), label: c.label }))),
      rfm_baseline: summary(test.map((c) => ({ score: baseline(c), label: c.label }))),
    },
    features: Object.fromEntries(CHURN_FEATURES.map((f, j) => [f, model.weights[j]!])),
  };
}
