/**
 * How the DuckDB event store hands rows over: as one JSON array of positional rows (`[[eventId, sourceId,
 * …], …]`, EVENT_COLUMNS order) in UTF-8 bytes. The same bytes are a journal record and the parameter of
 * the INSERT that stores them, which DuckDB decodes on its own threads. Positional rather than objects:
 * the field names were two fifths of every row's bytes, and `npm run bench -- duckdb-insert` measures what
 * the form costs DuckDB per event. Journals written with row objects (`[{…}, …]`) are still read.
 */
import { EVENT_COLUMNS } from '../../event-columns.ts';
import type { EventRecord } from '../../ports.ts';

/** JSON.stringify writes a lone UTF-16 surrogate as `\udXXX`, which DuckDB's JSON reader refuses. */
const LONE_SURROGATE_ESCAPE = /\\ud[89a-f]/i;

/** One event's values in EVENT_COLUMNS order (written out: a map over the columns costs twice as much). */
export function rowValues(e: EventRecord): unknown[] {
  return [
    e.eventId,
    e.sourceId,
    e.subjectId,
    e.anonymousId,
    e.userId,
    e.sessionId,
    e.type,
    e.purpose,
    e.consentId,
    e.ts,
    e.receivedAt,
    e.path,
    e.referrer,
    e.productId,
    e.category,
    e.query,
    e.orderId,
    e.revenue,
    e.currency,
    e.quantity,
    e.deviceClass,
    e.country,
    e.region,
    e.utmSource,
    e.props,
  ];
}

/**
 * The rows as one JSON array in UTF-8. A string with a lone surrogate (valid in JavaScript, not in UTF-8)
 * gets U+FFFD in its place, which is what handing it to native code did before; rare, so checked on the
 * text. Bytes rather than a string all the way into DuckDB (a BLOB that the INSERT decodes): joining
 * megabyte strings and handing one to native code cost the JavaScript thread several times the copying of
 * bytes, and the bytes live outside the JavaScript heap while they wait for the table.
 */
export function rowsJson(rows: readonly EventRecord[]): Buffer {
  const values = rows.map(rowValues);
  const json = JSON.stringify(values);
  if (!LONE_SURROGATE_ESCAPE.test(json)) return Buffer.from(json, 'utf8');
  return Buffer.from(
    JSON.stringify(values.map((row) => row.map((v) => (typeof v === 'string' ? v.toWellFormed() : v)))),
    'utf8',
  );
}

/** The events of one record: positional rows, or the row objects of journals written before. */
export function rowsOfJson(json: string): EventRecord[] {
  const rows = JSON.parse(json) as unknown[];
  return rows.map((row) => {
    if (!Array.isArray(row)) return row as EventRecord;
    const e: Record<string, unknown> = {};
    for (let i = 0; i < EVENT_COLUMNS.length; i++) e[EVENT_COLUMNS[i]!.field] = row[i];
    return e as EventRecord;
  });
}

/**
 * The SELECT over `$1` (a BLOB of `rowsJson`) that yields the table's columns. Every value is read as
 * text and cast: DuckDB's JSON reader keeps a number's own digits, so a double comes back exactly.
 * Times and integers arrive as JSON numbers and are truncated as the column needs (epoch ms → TIMESTAMP).
 */
export const SELECT_JSON_ROWS = `SELECT ${EVENT_COLUMNS.map((c, i) => {
  const f = `r[${i + 1}]`;
  const v =
    c.kind === 'ts'
      ? `epoch_ms(trunc(${f}::DOUBLE)::BIGINT)`
      : c.kind === 'integer'
        ? `trunc(${f}::DOUBLE)::INTEGER`
        : c.kind === 'double'
          ? `${f}::DOUBLE`
          : f;
  return `${v} AS ${c.column}`;
}).join(', ')} FROM (SELECT unnest(from_json(decode($1::BLOB), '[["VARCHAR"]]')) AS r)`;
