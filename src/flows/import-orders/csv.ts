/**
 * A streaming RFC 4180 CSV reader: quoted fields, doubled quotes, CR/LF, commas or another separator inside
 * quotes. Reads plain or gzipped files line by line so a 500k-row export never sits in memory at once.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

export type CsvRecord = Record<string, string>;

function openText(file: string): Readable {
  const raw = createReadStream(file);
  const stream = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  stream.setEncoding('utf8');
  return stream;
}

/** Yields arrays of fields, one per record; a quoted field may span lines. */
export async function* readCsvRows(file: string, separator = ','): AsyncGenerator<string[]> {
  let field = '';
  let row: string[] = [];
  let inQuotes = false;
  let pendingQuote = false;
  let sawAny = false;
  for await (const chunk of openText(file) as AsyncIterable<string>) {
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i]!;
      if (inQuotes) {
        if (pendingQuote) {
          pendingQuote = false;
          if (ch === '"') {
            field += '"';
            continue;
          }
          inQuotes = false;
          // fall through: the character after a closing quote is handled as unquoted
        } else if (ch === '"') {
          pendingQuote = true;
          continue;
        } else {
          field += ch;
          continue;
        }
      }
      if (ch === '"' && field === '') {
        inQuotes = true;
        sawAny = true;
      } else if (ch === separator) {
        row.push(field);
        field = '';
        sawAny = true;
      } else if (ch === '\n') {
        row.push(field);
        if (row.length > 1 || row[0] !== '') yield row;
        row = [];
        field = '';
        sawAny = false;
      } else if (ch !== '\r') {
        field += ch;
        sawAny = true;
      }
    }
  }
  if (sawAny || field !== '' || row.length > 0) {
    row.push(field);
    yield row;
  }
}

/** Records keyed by the header row; a row with a different field count is reported, not guessed at. */
export async function* readCsvRecords(
  file: string,
  separator = ',',
): AsyncGenerator<{ line: number; record: CsvRecord } | { line: number; error: 'field_count' }> {
  let header: string[] | undefined;
  let line = 0;
  for await (const row of readCsvRows(file, separator)) {
    line++;
    if (!header) {
      header = row.map((h) => h.replace(/^\uFEFF/, '').trim());
      continue;
    }
    if (row.length !== header.length) {
      yield { line, error: 'field_count' };
      continue;
    }
    const record: CsvRecord = {};
    header.forEach((h, i) => {
      record[h] = row[i]!;
    });
    yield { line, record };
  }
}
