/**
 * Offline evaluation of the intent classifier on labelled files (`candor evaluate nlu`): reading CSV/TSV,
 * carving a validation split from TRAIN when none is given (the test set is never used for tuning),
 * tuning the out-of-scope thresholds, and the metrics the issue asks for.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import {
  OOS,
  decide,
  seededRandom,
  trainIntentModel,
  type Candidate,
  type Example,
  type IntentModel,
  type Thresholds,
  type TrainOptions,
} from './classifier.ts';
import { LANGUAGES, prepare, type Lang } from './text.ts';

/** Parses RFC-4180-style CSV or TSV text into rows of fields (quoted fields may hold separators and newlines). */
export function parseDelimited(text: string, sep: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === sep) {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

export class ExamplesFileError extends Error {}

/** Reads `text,label[,lang]` examples (CSV, or TSV when the file name or header says so; `.gz` allowed). */
export function readExamples(file: string): Example[] {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    throw new ExamplesFileError(`Cannot read ${file}: check the path.`);
  }
  const text = (file.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8').replace(/^\uFEFF/, '');
  const firstLine = text.slice(0, text.indexOf('\n') >>> 0);
  const sep = firstLine.includes('\t') ? '\t' : ',';
  const rows = parseDelimited(text, sep);
  const header = (rows.shift() ?? []).map((h) => h.trim().toLowerCase());
  const ti = header.indexOf('text');
  const li = header.indexOf('label');
  const gi = header.indexOf('lang');
  if (ti < 0 || li < 0)
    throw new ExamplesFileError(
      `${file} needs a header row with the columns text,label[,lang] (found: ${header.join(',') || 'nothing'}).`,
    );
  const out: Example[] = [];
  for (const [n, r] of rows.entries()) {
    const t = r[ti]?.trim();
    const label = r[li]?.trim();
    if (!t || !label) throw new ExamplesFileError(`${file} row ${n + 2}: both text and label are required.`);
    const lang = gi >= 0 ? r[gi]?.trim() : undefined;
    const ex: Example = { text: t, label };
    if (lang && (LANGUAGES as readonly string[]).includes(lang)) ex.lang = lang as Lang;
    out.push(ex);
  }
  if (out.length === 0) throw new ExamplesFileError(`${file} has a header but no examples.`);
  return out;
}

/** A stratified split: `fraction` of each label (at least one when a label has two or more). */
export function carveValidation(
  examples: readonly Example[],
  fraction: number,
  seed: number,
): { train: Example[]; valid: Example[] } {
  const random = seededRandom(seed);
  const byLabel = new Map<string, Example[]>();
  for (const e of examples) {
    const list = byLabel.get(e.label) ?? [];
    list.push(e);
    byLabel.set(e.label, list);
  }
  const train: Example[] = [];
  const valid: Example[] = [];
  for (const list of byLabel.values()) {
    const shuffled = [...list];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const k = list.length < 2 ? 0 : Math.max(1, Math.round(list.length * fraction));
    valid.push(...shuffled.slice(0, k));
    train.push(...shuffled.slice(k));
  }
  return { train, valid };
}

/**
 * Tunes the confidence threshold and top-2 margin on validation rankings. With out-of-scope examples the
 * thresholds keep the most in-scope answers right while still catching at least `minOosRecall` of the
 * out-of-scope ones (a shop's bot that rejects too much is as bad as one that guesses); without, they
 * reject at most `maxFalseFallback` of the in-scope messages the model gets right.
 */
export function tuneThresholds(
  ranked: readonly { label: string; ranked: Candidate[] }[],
  options: { maxFalseFallback?: number; minOosRecall?: number } = {},
): Thresholds {
  const maxFalseFallback = options.maxFalseFallback ?? 0.02;
  const minOosRecall = options.minOosRecall ?? 0.6;
  const inScope = ranked.filter((r) => r.label !== OOS);
  const oos = ranked.filter((r) => r.label === OOS);
  if (oos.length === 0) {
    const correct = inScope
      .map((r) => decide(r.ranked, { confidence: 0, margin: 0 }))
      .filter((d, i) => d.intent === inScope[i]!.label)
      .map((d) => d.confidence)
      .sort((a, b) => a - b);
    const at = Math.floor(correct.length * maxFalseFallback);
    return { confidence: correct.length === 0 ? 0 : Math.max(0, (correct[at] ?? 0) - 1e-9), margin: 0 };
  }
  let best: Thresholds = { confidence: 0, margin: 0 };
  let bestKey = [-1, -1];
  const grid = Array.from({ length: 50 }, (_, i) => i / 50);
  const margins = [0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3];
  for (const confidence of grid)
    for (const margin of margins) {
      const t = { confidence, margin };
      let inOk = 0;
      let oosOk = 0;
      for (const r of inScope) if (decide(r.ranked, t).intent === r.label) inOk++;
      for (const r of oos) if (decide(r.ranked, t).intent === null) oosOk++;
      const inAcc = inOk / Math.max(1, inScope.length);
      const recall = oosOk / oos.length;
      // Feasible operating points first (recall target met), then the best in-scope accuracy; when none is
      // feasible, the balanced accuracy decides.
      const key = recall >= minOosRecall ? [1, inAcc] : [0, (inAcc + recall) / 2];
      if (key[0]! > bestKey[0]! || (key[0] === bestKey[0] && key[1]! > bestKey[1]! + 1e-12)) {
        bestKey = key;
        best = t;
      }
    }
  return best;
}

export type NluReport = {
  examples: { train: number; valid: number; test: number };
  intents: number;
  validation: 'given' | 'carved-from-train';
  thresholds: Thresholds;
  /** Accuracy of the deployed decision (out-of-scope rule applied; `oos` counts as a label). */
  accuracy: number;
  /** Accuracy of the top-ranked intent alone, without the out-of-scope rule (the usual closed-set figure). */
  top1Accuracy: number;
  inScopeAccuracy: number | null;
  oosRecall: number | null;
  oosPrecision: number | null;
  perLanguage: Record<string, { n: number; accuracy: number }>;
  p95MsPerMessage: number;
  trainSeconds: number;
};

const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);

/** Trains on `train`, tunes on `valid` (or a 10 % stratified carve of train), scores `test`. */
export function evaluateNlu(
  input: { train: Example[]; test: Example[]; valid?: Example[] },
  options: TrainOptions & { validFraction?: number } = {},
): NluReport {
  const started = performance.now();
  let model: IntentModel;
  let validSize: number;
  let thresholds: Thresholds;
  if (input.valid) {
    model = trainIntentModel(input.train, options);
    validSize = input.valid.length;
    thresholds = tuneThresholds(
      input.valid.map((e) => ({ label: e.label, ranked: model.rank(prepare(e.text, e.lang)) })),
    );
  } else {
    const { train, valid } = carveValidation(input.train, options.validFraction ?? 0.1, options.seed ?? 7);
    const probe = trainIntentModel(train, options);
    validSize = valid.length;
    thresholds = tuneThresholds(
      valid.map((e) => ({ label: e.label, ranked: probe.rank(prepare(e.text, e.lang)) })),
    );
    model = trainIntentModel(input.train, options);
  }
  model.thresholds = thresholds;
  const trainSeconds = (performance.now() - started) / 1000;

  const times: number[] = [];
  let correct = 0;
  let top1 = 0;
  let inN = 0;
  let inOk = 0;
  let oosN = 0;
  let oosHit = 0;
  let oosPredicted = 0;
  const lang = new Map<string, { n: number; ok: number }>();
  for (const e of input.test) {
    const t0 = performance.now();
    const prepared = prepare(e.text, e.lang);
    const ranked = model.rank(prepared);
    const d = decide(ranked, model.thresholds);
    times.push(performance.now() - t0);
    if (ranked[0]?.intent === e.label) top1++;
    const predicted = d.intent ?? OOS;
    const ok = predicted === e.label;
    if (ok) correct++;
    if (predicted === OOS) oosPredicted++;
    if (e.label === OOS) {
      oosN++;
      if (ok) oosHit++;
    } else {
      inN++;
      if (ok) inOk++;
    }
    const l = lang.get(prepared.lang) ?? { n: 0, ok: 0 };
    l.n++;
    if (ok) l.ok++;
    lang.set(prepared.lang, l);
  }
  times.sort((a, b) => a - b);
  const p95 = times[Math.min(times.length - 1, Math.floor(times.length * 0.95))] ?? 0;
  return {
    examples: { train: input.train.length, valid: validSize, test: input.test.length },
    intents: model.labels.filter((l) => l !== OOS).length,
    validation: input.valid ? 'given' : 'carved-from-train',
    thresholds,
    accuracy: correct / Math.max(1, input.test.length),
    top1Accuracy: top1 / Math.max(1, input.test.length),
    inScopeAccuracy: ratio(inOk, inN),
    oosRecall: ratio(oosHit, oosN),
    oosPrecision: oosN === 0 ? null : ratio(oosHit, oosPredicted),
    perLanguage: Object.fromEntries([...lang].map(([k, v]) => [k, { n: v.n, accuracy: v.ok / v.n }])),
    p95MsPerMessage: Math.round(p95 * 1000) / 1000,
    trainSeconds: Math.round(trainSeconds * 10) / 10,
  };
}
