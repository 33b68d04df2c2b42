/**
 * The sentiment classifier: multinomial logistic regression over hashed, binary, L2-normalised word and
 * character n-gram features (see text.ts), trained with AdaGrad and L2 regularisation. Pure TypeScript, no
 * downloaded weights: a model is trained from labelled text, at startup from the built-in set
 * (builtin.ts) or by `candor evaluate sentiment` from a file.
 */
import { featureIndices } from './text.ts';

export const SENTIMENT_LABELS = ['negative', 'neutral', 'positive'] as const;
export type SentimentLabel = (typeof SENTIMENT_LABELS)[number];

export type LabelledText = { text: string; label: SentimentLabel };

export type SentimentScore = {
  label: SentimentLabel;
  /** Probability of the chosen label. */
  confidence: number;
  /** P(positive) − P(negative), in [-1, 1]. */
  polarity: number;
  probabilities: Record<SentimentLabel, number>;
};

export type TrainOptions = {
  /** Feature table of 2^bits buckets (default 20: collisions stay rare at a few million n-grams). */
  bits?: number;
  epochs?: number;
  learningRate?: number;
  l2?: number;
  seed?: number;
};

export type SentimentModel = {
  /** Labels the training data held; only these are ever predicted. */
  readonly labels: readonly SentimentLabel[];
  score(text: string): SentimentScore;
};

/** mulberry32: deterministic shuffles, so the same data always gives the same model. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function softmax(z: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of z) max = Math.max(max, v);
  let sum = 0;
  const out = new Float64Array(z.length);
  for (let i = 0; i < z.length; i++) sum += out[i] = Math.exp(z[i]! - max);
  for (let i = 0; i < z.length; i++) out[i]! /= sum;
  return out;
}

export function trainSentimentModel(
  data: readonly LabelledText[],
  options: TrainOptions = {},
): SentimentModel {
  const bits = options.bits ?? 20;
  const epochs = options.epochs ?? 8;
  const lr = options.learningRate ?? 0.5;
  const l2 = options.l2 ?? 1e-6;
  const labels = SENTIMENT_LABELS.filter((l) => data.some((d) => d.label === l));
  if (labels.length < 2) throw new RangeError('Sentiment training needs examples of at least two labels.');
  const C = labels.length;
  const size = 1 << bits;
  // Weights and AdaGrad accumulators, class-major within a bucket: w[f * C + c].
  const w = new Float32Array(size * C);
  const g2 = new Float32Array(size * C).fill(1e-2);
  const bias = new Float64Array(C);
  const examples = data.map((d) => ({ x: featureIndices(d.text, bits), y: labels.indexOf(d.label) }));
  const order = examples.map((_, i) => i);
  const random = rng(options.seed ?? 1);
  const z = new Float64Array(C);
  // L2 shrinkage is applied lazily per touched bucket, scaled by the steps since its last update.
  const lastStep = new Uint32Array(size);
  let step = 0;

  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const idx of order) {
      const { x, y } = examples[idx]!;
      if (x.length === 0) continue;
      step++;
      const v = 1 / Math.sqrt(x.length);
      for (let c = 0; c < C; c++) z[c] = bias[c]!;
      for (const f of x) {
        const gap = step - lastStep[f]!;
        if (gap > 1 && l2 > 0) {
          const shrink = Math.pow(1 - lr * l2, gap - 1);
          for (let c = 0; c < C; c++) w[f * C + c]! *= shrink;
        }
        lastStep[f] = step;
        for (let c = 0; c < C; c++) z[c]! += w[f * C + c]! * v;
      }
      const p = softmax(z);
      for (let c = 0; c < C; c++) {
        const grad = p[c]! - (c === y ? 1 : 0);
        bias[c]! -= (lr * grad) / 10;
        for (const f of x) {
          const k = f * C + c;
          const gk = grad * v + l2 * w[k]!;
          g2[k]! += gk * gk;
          w[k]! -= (lr * gk) / Math.sqrt(g2[k]!);
        }
      }
    }
  }

  return {
    labels,
    score(text) {
      const x = featureIndices(text, bits);
      const v = x.length === 0 ? 0 : 1 / Math.sqrt(x.length);
      for (let c = 0; c < C; c++) z[c] = bias[c]!;
      for (const f of x) for (let c = 0; c < C; c++) z[c]! += w[f * C + c]! * v;
      const p = softmax(z);
      const probabilities = { negative: 0, neutral: 0, positive: 0 };
      let best = 0;
      for (let c = 0; c < C; c++) {
        probabilities[labels[c]!] = p[c]!;
        if (p[c]! > p[best]!) best = c;
      }
      return {
        label: labels[best]!,
        confidence: p[best]!,
        polarity: probabilities.positive - probabilities.negative,
        probabilities,
      };
    },
  };
}
