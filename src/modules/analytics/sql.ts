/**
 * SQL building blocks shared by every analytics query. Each query is written once with Kysely `sql`
 * templates; the few places where DuckDB and PostgreSQL spell something differently (epoch time, JSON
 * property access, byte-order collation) are branched here, so the queries themselves read the same on
 * both stores and return identical answers.
 */
import { sql, type RawBuilder } from 'kysely';
import { AppError } from '../../kernel/errors.ts';
import type { EventDialect } from '../../storage/ports.ts';

export const DAY_MS = 86_400_000;

/** A half-open time range [from, to) in epoch milliseconds. */
export type TimeRange = { from: number; to: number };

/** Columns a query may filter or break down by, beside `props.<key>`. */
export const EVENT_PROPERTIES = [
  'type',
  'path',
  'referrer',
  'product_id',
  'category',
  'query',
  'order_id',
  'currency',
  'device_class',
  'country',
  'region',
  'utm_source',
] as const;

export type EventProperty = (typeof EVENT_PROPERTIES)[number] | `props.${string}`;

const PROPS_KEY = /^props\.([A-Za-z0-9_]{1,64})$/;

export function isEventProperty(name: string): name is EventProperty {
  return (EVENT_PROPERTIES as readonly string[]).includes(name) || PROPS_KEY.test(name);
}

/** Database numbers arrive as number, bigint or (PostgreSQL numeric/bigint) string; NULL stays null. */
export function num(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return Number(v);
}

export function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

/** Rounds away the last-bit differences two engines may leave in floating sums. */
export function round(v: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function ratio(a: number, b: number): number | null {
  return b === 0 ? null : round(a / b);
}

/** Event time (column `col`, default `ts`) as epoch milliseconds, a BIGINT on both engines. */
export function msOf(d: EventDialect, col = 'ts'): RawBuilder<number> {
  return d === 'duckdb'
    ? sql<number>`epoch_ms(${sql.ref(col)})`
    : sql<number>`(extract(epoch from ${sql.ref(col)}) * 1000)::bigint`;
}

/** Day number since 1970-01-01 (UTC) of an epoch-ms expression (integer division on DuckDB: cheaper). */
export function dayOf(d: EventDialect, ms: RawBuilder<number>): RawBuilder<number> {
  return d === 'duckdb'
    ? sql<number>`(${ms} // 86400000)`
    : sql<number>`cast(floor(${ms} / 86400000.0) as bigint)`;
}

/** The range filter on the `ts` column (Date parameters: TIMESTAMP in UTC on DuckDB, timestamptz on PostgreSQL). */
export function inRange(range: TimeRange, col = 'ts'): RawBuilder<boolean> {
  return sql<boolean>`${sql.ref(col)} >= ${new Date(range.from)} and ${sql.ref(col)} < ${new Date(range.to)}`;
}

/** Byte-order comparison, so ties sort the same on both engines whatever PostgreSQL's locale is. */
export function bytewise(d: EventDialect, expr: RawBuilder<unknown>): RawBuilder<unknown> {
  return d === 'postgres' ? sql`(${expr} collate "C")` : expr;
}

/** A column or JSON property of the event, as text. Names are checked against the allow-list. */
export function propText(d: EventDialect, property: string): RawBuilder<string | null> {
  if ((EVENT_PROPERTIES as readonly string[]).includes(property))
    return sql<string | null>`${sql.ref(property)}`;
  const m = PROPS_KEY.exec(property);
  if (!m?.[1]) {
    throw new AppError(
      'invalid_request',
      `Unknown event property '${property}'. Use one of ${EVENT_PROPERTIES.join(', ')} or props.<key>.`,
    );
  }
  return d === 'duckdb'
    ? sql<string | null>`json_extract_string(props, ${`$.${m[1]}`})`
    : sql<string | null>`(props::jsonb ->> ${m[1]})`;
}

/** A numeric JSON property (`engagedMs`, `position`, …) as DOUBLE; NULL when absent or not a number. */
export function propNumber(d: EventDialect, key: string): RawBuilder<number | null> {
  const text = propText(d, `props.${key}`);
  return d === 'duckdb'
    ? sql<number | null>`try_cast(${text} as double)`
    : sql<
        number | null
      >`(case when ${text} ~ '^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$' then (${text})::double precision end)`;
}

/** Byte-order string comparison for the same tie-breaking in TypeScript as in SQL. */
export function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Biggest first, then by key in byte order: the one ordering every ranked list uses. */
export function byCountThenKey<T>(count: (t: T) => number, key: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => count(b) - count(a) || byteCompare(key(a), key(b));
}
