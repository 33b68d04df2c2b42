/**
 * The `events` table's columns, in storage order, and the mapping between the camelCase `EventRecord` the
 * code passes around and the snake_case `EventRow` analytical SQL sees. Every event-store adapter uses this
 * one list, so their tables cannot drift apart.
 */
import type { EventRecord, EventRow } from './ports.ts';

export type EventColumnKind = 'text' | 'ts' | 'double' | 'integer';

export const EVENT_COLUMNS = [
  { column: 'event_id', field: 'eventId', kind: 'text', nullable: false },
  { column: 'source_id', field: 'sourceId', kind: 'text', nullable: false },
  { column: 'subject_id', field: 'subjectId', kind: 'text', nullable: false },
  { column: 'anonymous_id', field: 'anonymousId', kind: 'text', nullable: true },
  { column: 'user_id', field: 'userId', kind: 'text', nullable: true },
  { column: 'session_id', field: 'sessionId', kind: 'text', nullable: true },
  { column: 'type', field: 'type', kind: 'text', nullable: false },
  { column: 'purpose', field: 'purpose', kind: 'text', nullable: false },
  { column: 'consent_id', field: 'consentId', kind: 'text', nullable: true },
  { column: 'ts', field: 'ts', kind: 'ts', nullable: false },
  { column: 'received_at', field: 'receivedAt', kind: 'ts', nullable: false },
  { column: 'path', field: 'path', kind: 'text', nullable: true },
  { column: 'referrer', field: 'referrer', kind: 'text', nullable: true },
  { column: 'product_id', field: 'productId', kind: 'text', nullable: true },
  { column: 'category', field: 'category', kind: 'text', nullable: true },
  { column: 'query', field: 'query', kind: 'text', nullable: true },
  { column: 'order_id', field: 'orderId', kind: 'text', nullable: true },
  { column: 'revenue', field: 'revenue', kind: 'double', nullable: true },
  { column: 'currency', field: 'currency', kind: 'text', nullable: true },
  { column: 'quantity', field: 'quantity', kind: 'integer', nullable: true },
  { column: 'device_class', field: 'deviceClass', kind: 'text', nullable: true },
  { column: 'country', field: 'country', kind: 'text', nullable: true },
  { column: 'region', field: 'region', kind: 'text', nullable: true },
  { column: 'utm_source', field: 'utmSource', kind: 'text', nullable: true },
  { column: 'props', field: 'props', kind: 'text', nullable: false },
] as const satisfies readonly {
  column: keyof EventRow;
  field: keyof EventRecord;
  kind: EventColumnKind;
  nullable: boolean;
}[];

function toMs(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return new Date(String(value)).getTime();
}

function toNumberOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'number' ? value : Number(value);
}

/** A row read back from any adapter → EventRecord. */
export function eventFromRow(row: Record<string, unknown>): EventRecord {
  const out: Record<string, unknown> = {};
  for (const c of EVENT_COLUMNS) {
    const v = row[c.column];
    if (c.kind === 'ts') out[c.field] = toMs(v);
    else if (c.kind === 'double' || c.kind === 'integer') out[c.field] = toNumberOrNull(v);
    else out[c.field] = v ?? null;
  }
  return out as EventRecord;
}

/** Validates what the type system cannot: finite times, integer quantity. Throws on a programming error. */
export function checkEventRecord(e: EventRecord): void {
  if (!Number.isFinite(e.ts) || !Number.isFinite(e.receivedAt)) {
    throw new TypeError(`event ${e.eventId}: ts and receivedAt must be epoch milliseconds`);
  }
}
