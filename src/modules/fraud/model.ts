/**
 * The learned part of the score: L2-regularised logistic regression over the numeric and boolean features,
 * trained by full-batch gradient descent on labelled outcomes (chargebacks, review decisions). Small, exact and
 * explainable: each feature's contribution to the log-odds is its weight times its standardised value, so the
 * top reasons of a score come straight out of the model. Until a shop has labels, a prior model with
 * hand-set weights (the same signals a fraud analyst starts with) scores orders.
 */
import { FEATURE_TYPES, type FeatureValue } from './features.ts';

export type LogisticModel = {
  kind: 'logistic';
  /** `prior` or the id of the training run. */
  version: string;
  features: string[];
  mean: number[];
  std: number[];
  weights: number[];
  bias: number;
  trainedAt: number | null;
  trainingRows: number;
  positives: number;
};

/** Features the model reads: every number and boolean except the raw strings (countries, domains). */
export const MODEL_FEATURES: readonly string[] = Object.entries(FEATURE_TYPES)
  .filter(([, t]) => t !== 'string')
  .map(([name]) => name);

/** Counts and amounts are heavy-tailed: the model sees sign·log(1+|x|); booleans are 0/1. */
export function transform(v: FeatureValue | undefined): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isFinite(v)) return Math.sign(v) * Math.log1p(Math.abs(v));
  return 0;
}

export function vectorOf(
  features: readonly string[],
  values: Readonly<Record<string, FeatureValue>>,
): number[] {
  return features.map((f) => transform(Object.hasOwn(values, f) ? values[f] : undefined));
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

export type Prediction = { probability: number; contributions: { feature: string; contribution: number }[] };

export function predict(model: LogisticModel, values: Readonly<Record<string, FeatureValue>>): Prediction {
  const x = vectorOf(model.features, values);
  let z = model.bias;
  const contributions: { feature: string; contribution: number }[] = [];
  for (let i = 0; i < x.length; i++) {
    const c = (model.weights[i]! * (x[i]! - model.mean[i]!)) / model.std[i]!;
    z += c;
    if (c !== 0) contributions.push({ feature: model.features[i]!, contribution: c });
  }
  contributions.sort((a, b) => b.contribution - a.contribution);
  return { probability: sigmoid(z), contributions };
}

/** Hand-set weights on transformed values (log-odds per unit), used until the first training run. */
const PRIOR_WEIGHTS: Readonly<Record<string, number>> = {
  card_testing: 3,
  declines_in_row: 0.8,
  small_auths_in_row: 0.4,
  velocity_card_10m: 0.9,
  velocity_card_1h: 0.5,
  velocity_email_1h: 0.4,
  velocity_device_1h: 0.5,
  velocity_ip_10m: 0.6,
  velocity_ip_24h: 0.3,
  velocity_ship_24h: 0.4,
  bin_ip_mismatch: 0.9,
  bin_billing_mismatch: 0.5,
  billing_shipping_mismatch: 0.7,
  ip_shipping_mismatch: 0.5,
  new_account: 0.8,
  first_seen_device: 0.4,
  new_shipping_address: 0.8,
  disposable_email: 1.5,
  amount_z_customer: 0.8,
  amount_z_category: 0.5,
  high_risk_share: 1.2,
  price_mismatch_items: 2,
  price_underpaid_ratio: 6,
  unknown_products: 0.7,
  negative_quantity: 3.5,
  stacked_coupons: 1.5,
  reused_coupon: 1,
  discount_ratio: 1.5,
  total_mismatch: 2,
  return_rate: 2,
  refunds_exceed_purchases: 2,
  not_received_claims: 1.2,
  threeds_failed: 2,
  threeds_authenticated: -1.2,
  avs_mismatch: 1.2,
  cvv_mismatch: 2,
  auth_declined: 1,
  account_age_days: -0.25,
};

export function priorModel(): LogisticModel {
  const features = [...MODEL_FEATURES];
  return {
    kind: 'logistic',
    version: 'prior',
    features,
    mean: features.map(() => 0),
    std: features.map(() => 1),
    weights: features.map((f) => PRIOR_WEIGHTS[f] ?? 0),
    bias: -4,
    trainedAt: null,
    trainingRows: 0,
    positives: 0,
  };
}

export type TrainingRow = { values: Readonly<Record<string, FeatureValue>>; label: 0 | 1 };

export type TrainOptions = {
  iterations?: number;
  learningRate?: number;
  l2?: number;
  version?: string;
  now?: number;
};

/**
 * Fits the weights. Features are standardised on the training rows (constant ones get weight 0); the loss is
 * the mean log-loss plus l2/2·‖w‖², minimised with Adam for a fixed number of full-batch steps (deterministic).
 */
export function trainLogistic(rows: readonly TrainingRow[], options: TrainOptions = {}): LogisticModel {
  const features = [...MODEL_FEATURES];
  const d = features.length;
  const n = rows.length;
  const X = rows.map((r) => vectorOf(features, r.values));
  const y = rows.map((r) => r.label);
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(1);
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (const x of X) s += x[j]!;
    const m = n > 0 ? s / n : 0;
    let v = 0;
    for (const x of X) v += (x[j]! - m) ** 2;
    mean[j] = m;
    std[j] = n > 1 && v > 0 ? Math.sqrt(v / n) : 1;
  }
  const Z = X.map((x) => x.map((v, j) => (v - mean[j]!) / std[j]!));
  const positives = y.reduce<number>((s, v) => s + v, 0);
  const w = new Array<number>(d).fill(0);
  // Start at the base rate so early steps move weights, not the intercept.
  const rate = Math.min(Math.max(positives / Math.max(n, 1), 1e-4), 1 - 1e-4);
  let b = Math.log(rate / (1 - rate));
  const iterations = options.iterations ?? 300;
  const lr = options.learningRate ?? 0.05;
  const l2 = options.l2 ?? 1e-3;
  const mW = new Array<number>(d).fill(0);
  const vW = new Array<number>(d).fill(0);
  let mB = 0;
  let vB = 0;
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const grad = new Array<number>(d);
  for (let t = 1; t <= iterations && n > 0; t++) {
    grad.fill(0);
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const z = Z[i]!;
      let s = b;
      for (let j = 0; j < d; j++) s += w[j]! * z[j]!;
      const e = sigmoid(s) - y[i]!;
      gb += e;
      for (let j = 0; j < d; j++) grad[j] = grad[j]! + e * z[j]!;
    }
    for (let j = 0; j < d; j++) {
      const g = grad[j]! / n + l2 * w[j]!;
      mW[j] = b1 * mW[j]! + (1 - b1) * g;
      vW[j] = b2 * vW[j]! + (1 - b2) * g * g;
      w[j] = w[j]! - (lr * (mW[j]! / (1 - b1 ** t))) / (Math.sqrt(vW[j]! / (1 - b2 ** t)) + eps);
    }
    gb /= n;
    mB = b1 * mB + (1 - b1) * gb;
    vB = b2 * vB + (1 - b2) * gb * gb;
    b -= (lr * (mB / (1 - b1 ** t))) / (Math.sqrt(vB / (1 - b2 ** t)) + eps);
  }
  return {
    kind: 'logistic',
    version: options.version ?? 'trained',
    features,
    mean,
    std,
    weights: w,
    bias: b,
    trainedAt: options.now ?? null,
    trainingRows: n,
    positives,
  };
}
