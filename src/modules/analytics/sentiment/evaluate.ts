/**
 * Offline evaluation of the sentiment classifier: reads labelled files (CSV or TSV with a header
 * `text,label[,lang]`), trains on one and reports accuracy and macro-F1 on the other, overall and per
 * language (the `lang` column when given, else detected).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { AppError } from '../../../kernel/errors.ts';
import {
  SENTIMENT_LABELS,
  trainSentimentModel,
  type LabelledText,
  type SentimentLabel,
  type SentimentModel,
  type TrainOptions,
} from './model.ts';
import { detectLanguage } from './text.ts';

export type LabelledRow = LabelledText & { lang: string };

export type Metrics = {
  examples: number;
  accuracy: number;
  macroF1: number;
  /** Per true label: precision, recall, F1 and support. */
  perLabel: Record<string, { precision: number; recall: number; f1: number; support: number }>;
};

export type SentimentReport = {
  train: { examples: number; labels: string[] };
  overall: Metrics;
  perLanguage: Record<string, Metrics>;
};

/** One delimited line set (CSV with RFC-4180 quoting, or TSV without quoting). */
function parseDelimited(text: string, sep: ',' | '\t'): string[][] {
  if (sep === '\t')
    return text
      .split(/\r?\n/)
      .filter((l) => l.length > 0)
      .map((l) => l.split('\t'));
  const rows: string[][] = [];
  let row: string[] = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === '"' && text[i + 1] === '"') {
        f += '"';
        i++;
      } else if (c === '"') q = false;
      else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      row.push(f);
      f = '';
    } else if (c === '\n') {
      row.push(f);
      rows.push(row);
      row = [];
      f = '';
    } else if (c !== '\r') f += c;
  }
  if (f.length > 0 || row.length > 0) {
    row.push(f);
    rows.push(row);
  }
  return rows;
}

/** Parses a labelled file's text; `name` is only for messages. */
export function parseLabelled(content: string, name: string): LabelledRow[] {
  const body = content.replace(/^\uFEFF/, '');
  const firstLine = body.slice(0, body.indexOf('\n') === -1 ? body.length : body.indexOf('\n'));
  const sep = firstLine.includes('\t') ? '\t' : ',';
  const [header, ...rows] = parseDelimited(body, sep);
  const cols = (header ?? []).map((h) => h.trim().toLowerCase());
  const ti = cols.indexOf('text');
  const li = cols.indexOf('label');
  const gi = cols.indexOf('lang');
  if (ti === -1 || li === -1) {
    throw new AppError(
      'invalid_request',
      `${name}: the first line must be a header naming the columns text and label (and optionally lang).`,
    );
  }
  const out: LabelledRow[] = [];
  rows.forEach((r, i) => {
    if (r.length === 1 && r[0] === '') return;
    const text = r[ti] ?? '';
    const label = (r[li] ?? '').trim().toLowerCase();
    if (!(SENTIMENT_LABELS as readonly string[]).includes(label)) {
      throw new AppError(
        'invalid_request',
        `${name} line ${i + 2}: label '${label}' is not one of ${SENTIMENT_LABELS.join(', ')}.`,
      );
    }
    const lang = gi === -1 ? '' : (r[gi] ?? '').trim();
    out.push({
      text,
      label: label as SentimentLabel,
      lang: lang.length > 0 ? lang : detectLanguage(text),
    });
  });
  if (out.length === 0) throw new AppError('invalid_request', `${name} holds no labelled rows.`);
  return out;
}

/** Reads a labelled .csv/.tsv file (optionally .gz). */
export function readLabelledFile(file: string): LabelledRow[] {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (cause) {
    throw new AppError('invalid_request', `Cannot read ${file}: check the path.`, { cause });
  }
  const text = file.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  return parseLabelled(text, file);
}

/** Accuracy and macro-F1 (the mean F1 over the labels present in truth or predictions). */
export function metrics(pairs: readonly { truth: string; predicted: string }[]): Metrics {
  const labels = [...new Set(pairs.flatMap((p) => [p.truth, p.predicted]))].sort();
  const perLabel: Metrics['perLabel'] = {};
  let correct = 0;
  for (const p of pairs) if (p.truth === p.predicted) correct++;
  let f1Sum = 0;
  for (const l of labels) {
    const tp = pairs.filter((p) => p.truth === l && p.predicted === l).length;
    const predicted = pairs.filter((p) => p.predicted === l).length;
    const support = pairs.filter((p) => p.truth === l).length;
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perLabel[l] = { precision: r4(precision), recall: r4(recall), f1: r4(f1), support };
    f1Sum += f1;
  }
  return {
    examples: pairs.length,
    accuracy: r4(pairs.length === 0 ? 0 : correct / pairs.length),
    macroF1: r4(labels.length === 0 ? 0 : f1Sum / labels.length),
    perLabel,
  };
}

const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** Scores a trained model on labelled rows. */
export function scoreModel(
  model: SentimentModel,
  test: readonly LabelledRow[],
): Omit<SentimentReport, 'train'> {
  const pairs = test.map((r) => ({ truth: r.label, predicted: model.score(r.text).label, lang: r.lang }));
  const perLanguage: Record<string, Metrics> = {};
  for (const lang of [...new Set(pairs.map((p) => p.lang))].sort())
    perLanguage[lang] = metrics(pairs.filter((p) => p.lang === lang));
  return { overall: metrics(pairs), perLanguage };
}

/** Trains on `train` and reports on `test`. */
export function evaluateSentiment(
  train: readonly LabelledRow[],
  test: readonly LabelledRow[],
  options: TrainOptions = {},
): SentimentReport {
  const model = trainSentimentModel(train, options);
  return { train: { examples: train.length, labels: [...model.labels] }, ...scoreModel(model, test) };
}
