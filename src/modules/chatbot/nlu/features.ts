/**
 * Sparse features for the intent classifier: word unigrams and bigrams, character n-grams inside word
 * boundaries (robust to typos and inflection: "refunded" shares most grams with "refund"), and character
 * 1–3-grams over Chinese runs so a segmentation mistake costs little. Weighted by sublinear tf × idf and
 * L2-normalised per group, so words and characters carry comparable weight whatever the sentence length.
 */
import { isHan, type PreparedText } from './text.ts';

export type SparseVector = { idx: Int32Array; val: Float32Array };

export type FeatureOptions = {
  charMin: number;
  charMax: number;
  /** Relative weight of the character group against the word group (0–1). */
  charWeight: number;
};

export const DEFAULT_FEATURES: FeatureOptions = { charMin: 2, charMax: 5, charWeight: 0.5 };

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Raw feature counts of one prepared text, in two groups: words and characters. */
export function rawFeatures(
  p: PreparedText,
  o: FeatureOptions,
): { words: Map<string, number>; chars: Map<string, number> } {
  const words = new Map<string, number>();
  const chars = new Map<string, number>();
  const toks = p.tokens.map((t) => (/^\d+$/.test(t) ? (t.length >= 5 ? '<long-number>' : '<number>') : t));
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    bump(words, `w:${t}`);
    const prev = i === 0 ? '<s>' : toks[i - 1]!;
    bump(words, `b:${prev} ${t}`);
    if (i === toks.length - 1) bump(words, `b:${t} </s>`);
    if (!isHan(t) && !t.startsWith('<')) {
      const padded = ` ${t} `;
      for (let n = o.charMin; n <= o.charMax; n++)
        for (let s = 0; s + n <= padded.length; s++) bump(chars, `c:${padded.slice(s, s + n)}`);
    }
  }
  // Chinese: character grams over each Han run, across word boundaries.
  for (const run of p.normalized.match(/\p{Script=Han}+/gu) ?? []) {
    const cs = [...run];
    for (let n = 1; n <= 3; n++)
      for (let s = 0; s + n <= cs.length; s++) bump(chars, `h:${cs.slice(s, s + n).join('')}`);
  }
  return { words, chars };
}

/** A vocabulary with document frequencies, learnt from the training texts. */
export type Vocabulary = {
  index: Map<string, number>;
  idf: Float32Array;
  options: FeatureOptions;
};

export function buildVocabulary(
  docs: readonly { words: Map<string, number>; chars: Map<string, number> }[],
  options: FeatureOptions,
  minCharDf = 2,
): Vocabulary {
  const df = new Map<string, number>();
  for (const d of docs) {
    for (const k of d.words.keys()) df.set(k, (df.get(k) ?? 0) + 1);
    for (const k of d.chars.keys()) df.set(k, (df.get(k) ?? 0) + 1);
  }
  const index = new Map<string, number>();
  const idfs: number[] = [];
  const n = docs.length;
  for (const [k, f] of df) {
    // Character grams seen once add memory and noise, never generalisation.
    if (f < minCharDf && (k.startsWith('c:') || k.startsWith('h:'))) continue;
    index.set(k, idfs.length);
    idfs.push(Math.log((1 + n) / (1 + f)) + 1);
  }
  return { index, idf: Float32Array.from(idfs), options };
}

function group(map: Map<string, number>, v: Vocabulary, weight: number, idx: number[], val: number[]): void {
  const start = idx.length;
  let norm = 0;
  for (const [k, c] of map) {
    const i = v.index.get(k);
    if (i === undefined) continue;
    const x = (1 + Math.log(c)) * v.idf[i]!;
    idx.push(i);
    val.push(x);
    norm += x * x;
  }
  if (norm === 0) return;
  const s = Math.sqrt(weight / norm);
  for (let j = start; j < val.length; j++) val[j] = val[j]! * s;
}

export function vectorize(
  raw: { words: Map<string, number>; chars: Map<string, number> },
  v: Vocabulary,
): SparseVector {
  const idx: number[] = [];
  const val: number[] = [];
  group(raw.words, v, 1 - v.options.charWeight, idx, val);
  group(raw.chars, v, v.options.charWeight, idx, val);
  return { idx: Int32Array.from(idx), val: Float32Array.from(val) };
}
