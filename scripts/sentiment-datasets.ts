/**
 * Converts the shared labelled review sets (../shared/data) into the `text,label,lang` CSV files that
 * `candor evaluate sentiment` reads, in a temporary directory (never inside the project), each with the
 * set's own train/test split:
 *
 *   node scripts/sentiment-datasets.ts [OUT_DIR]      # default: $TMPDIR/candor-sentiment-data
 *
 * Writes amazon-en/{train,test}.csv (title + text), smsa-id/{train,test}.csv (test = the public valid
 * split; the published test labels are masked) and shopping-zh/{train,test}.csv (label 1/0 → positive/negative),
 * plus all/{train,test}.csv, the three concatenated.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

const here = path.dirname(new URL(import.meta.url).pathname);
const data = path.resolve(here, '../../shared/data');
const out = path.resolve(process.argv[2] ?? path.join(os.tmpdir(), 'candor-sentiment-data'));

type Row = readonly [text: string, label: string, lang: string];

const cell = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
function write(file: string, rows: readonly Row[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `text,label,lang\n${rows.map((r) => r.map(cell).join(',')).join('\n')}\n`);
  console.log(`${file}: ${rows.length} rows`);
}

/** RFC-4180 CSV (quoted fields may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
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

function records(file: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(gunzipSync(readFileSync(file)).toString('utf8'));
  if (!header) throw new Error(`${file} is empty`);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

// English: Amazon multi-domain; the title carries much of the polarity, so it goes in front of the text.
const en = { train: [] as Row[], test: [] as Row[] };
for (const r of records(path.join(data, 'amazon-multidomain-sentiment-en/reviews.csv.gz'))) {
  const text = [r.title, r.text].filter((s) => s && s.length > 0).join('. ');
  (r.split === 'test' ? en.test : en.train).push([text, r.label ?? '', 'en']);
}

// Indonesian: SmSA, `text<TAB>label`, no header; split on the last tab.
const tsv = (file: string): Row[] =>
  readFileSync(path.join(data, 'indonlu-smsa-id', file), 'utf8')
    .split('\n')
    .filter((l) => l.includes('\t'))
    .map((l) => {
      const at = l.lastIndexOf('\t');
      return [l.slice(0, at), l.slice(at + 1).trim(), 'id'] as const;
    });
const id = { train: tsv('train_preprocess.tsv'), test: tsv('valid_preprocess.tsv') };

// Chinese: online_shopping_10_cats; the one empty review is left out (it has no polarity to learn).
const zh = { train: [] as Row[], test: [] as Row[] };
for (const r of records(path.join(data, 'online-shopping-10cats-zh/reviews_with_split.csv.gz'))) {
  if (!r.review || r.review.trim().length === 0) continue;
  (r.split === 'test' ? zh.test : zh.train).push([r.review, r.label === '1' ? 'positive' : 'negative', 'zh']);
}

for (const [name, set] of [
  ['amazon-en', en],
  ['smsa-id', id],
  ['shopping-zh', zh],
] as const) {
  write(path.join(out, name, 'train.csv'), set.train);
  write(path.join(out, name, 'test.csv'), set.test);
}
write(path.join(out, 'all', 'train.csv'), [...en.train, ...id.train, ...zh.train]);
write(path.join(out, 'all', 'test.csv'), [...en.test, ...id.test, ...zh.test]);
