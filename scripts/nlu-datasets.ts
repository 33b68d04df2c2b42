/**
 * Converts the shared intent data sets (../shared/data) into the `text,label` CSV files that
 * `candor evaluate nlu` reads, in a temporary directory (never inside the project):
 *
 *   node scripts/nlu-datasets.ts [OUT_DIR]      # default: $TMPDIR/candor-nlu-data
 *
 * Writes banking77/{train,test,train_10}.csv, clinc150/{train,valid,test}.csv (data_full, with the
 * oos_* parts labelled `oos`) and hwu64/{train,valid,test,train_10}.csv.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const data = path.resolve(here, '../../shared/data');
const out = path.resolve(process.argv[2] ?? path.join(os.tmpdir(), 'candor-nlu-data'));

const cell = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
function write(file: string, rows: readonly (readonly [string, string])[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `text,label\n${rows.map(([t, l]) => `${cell(t)},${cell(l)}`).join('\n')}\n`);
  console.log(`${file}: ${rows.length} rows`);
}

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
  if (f || row.length) rows.push([...row, f]);
  return rows;
}

// BANKING77: CSV text,category; few-shot = the first 10 rows of each intent in file order.
const bankTrain = parseCsv(readFileSync(path.join(data, 'banking77/train.csv'), 'utf8')).slice(1);
const bankTest = parseCsv(readFileSync(path.join(data, 'banking77/test.csv'), 'utf8')).slice(1);
const pair = (r: string[]): [string, string] => [r[0]!, r[1]!];
write(path.join(out, 'banking77/train.csv'), bankTrain.map(pair));
write(path.join(out, 'banking77/test.csv'), bankTest.map(pair));
const seen = new Map<string, number>();
write(
  path.join(out, 'banking77/train_10.csv'),
  bankTrain
    .filter((r) => {
      const n = seen.get(r[1]!) ?? 0;
      seen.set(r[1]!, n + 1);
      return n < 10;
    })
    .map(pair),
);

// CLINC150 data_full: JSON lists of [text, intent]; the oos_* lists carry the label `oos`.
const clinc = JSON.parse(readFileSync(path.join(data, 'clinc150/data_full.json'), 'utf8')) as Record<
  string,
  [string, string][]
>;
for (const [name, parts] of [
  ['train', ['train', 'oos_train']],
  ['valid', ['val', 'oos_val']],
  ['test', ['test', 'oos_test']],
] as const)
  write(
    path.join(out, `clinc150/${name}.csv`),
    parts.flatMap((p) => clinc[p] ?? []),
  );

// HWU64: parallel seq.in / label files per split.
for (const split of ['train', 'valid', 'test', 'train_10']) {
  const dir = path.join(data, 'hwu64', split);
  const texts = readFileSync(path.join(dir, 'seq.in'), 'utf8').split('\n');
  const labels = readFileSync(path.join(dir, 'label'), 'utf8').split('\n');
  const rows: [string, string][] = [];
  texts.forEach((t, i) => {
    if (t.trim() && labels[i]?.trim()) rows.push([t.trim(), labels[i].trim()]);
  });
  write(path.join(out, `hwu64/${split}.csv`), rows);
}
