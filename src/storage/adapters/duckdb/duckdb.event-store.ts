/**
 * The embedded event store: one DuckDB file. DuckDB lets exactly one process open a file for writing, so
 * the process that opens it serves every query; a second process gets a `store_locked` error that says
 * what to do. Appends go through DuckDB's Appender into a per-connection staging table and then one
 * `INSERT … SELECT` that skips ids already stored, which keeps bulk loads fast and makes them idempotent on
 * event_id (duplicates inside one batch and against stored rows are both skipped).
 *
 * Why no PRIMARY KEY: DuckDB maintains it as an ART index on random ids, which cut bulk appends from
 * ~280k to ~40k rows/s on a 2-core machine. A retried message carries the same id and nearly the same
 * time (ingestion corrects device clocks with Segment's sentAt rule, which shifts a retry's time only by
 * the change in network delay), so the anti-join reads only rows within DEDUPE_WINDOW_MS of the batch's
 * time range, which DuckDB's per-row-group min/max statistics prune to the row groups of recent data.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  DuckDBInstance,
  DuckDBTimestampValue,
  type DuckDBAppender,
  type DuckDBConnection,
} from '@duckdb/node-api';
import { Kysely, sql } from 'kysely';
import { AppError } from '../../../kernel/errors.ts';
import { EVENT_COLUMNS, checkEventRecord, eventFromRow } from '../../event-columns.ts';
import type { AppendResult, EventRecord, EventStore, EventTables } from '../../ports.ts';
import { DuckDbDialect } from './duckdb.dialect.ts';

export type DuckDbEventStoreOptions = { file: string };

/** How far apart two deliveries of one message may be dated and still be recognised as the same event. */
export const DEDUPE_WINDOW_MS = 2 * 24 * 60 * 60 * 1000;

const SQL_TYPE = { text: 'VARCHAR', ts: 'TIMESTAMP', double: 'DOUBLE', integer: 'INTEGER' } as const;
const COLUMN_LIST = EVENT_COLUMNS.map((c) => c.column).join(', ');
const CREATE_EVENTS = `CREATE TABLE IF NOT EXISTS events (${EVENT_COLUMNS.map(
  (c) => `${c.column} ${SQL_TYPE[c.kind]}${c.nullable ? '' : ' NOT NULL'}`,
).join(', ')})`;

/** Files this process has open: DuckDB does not stop one process from opening a file twice. */
const openFiles = new Set<string>();

function lockedError(file: string, detail: string, cause?: unknown): AppError {
  return new AppError(
    'store_locked',
    `Another Candor process owns ${path.dirname(file)}: ${detail} Stop it, or run this command against the running server.`,
    cause === undefined ? {} : { cause },
  );
}

function appendRow(appender: DuckDBAppender, e: EventRecord): void {
  for (const c of EVENT_COLUMNS) {
    const v = e[c.field];
    if (v === null || v === undefined) {
      appender.appendNull();
      continue;
    }
    switch (c.kind) {
      case 'text':
        appender.appendVarchar(String(v));
        break;
      case 'ts':
        appender.appendTimestamp(new DuckDBTimestampValue(BigInt(Math.trunc(Number(v))) * 1000n));
        break;
      case 'double':
        appender.appendDouble(Number(v));
        break;
      case 'integer':
        appender.appendInteger(Math.trunc(Number(v)));
        break;
    }
  }
  appender.endRow();
}

/** Serialises async work on one resource (the append connection and its staging table). */
function createMutex(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

export async function openDuckDbEventStore(options: DuckDbEventStoreOptions): Promise<EventStore> {
  const file = path.resolve(options.file);
  if (openFiles.has(file)) throw lockedError(file, 'this process already has the event store open.');
  mkdirSync(path.dirname(file), { recursive: true });
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(file);
  } catch (cause) {
    const message = (cause as Error).message ?? String(cause);
    if (/lock/i.test(message)) throw lockedError(file, message.split('\n')[0] ?? message, cause);
    throw new AppError('store_error', `Cannot open the event store ${file}: ${message}`, { cause });
  }
  openFiles.add(file);

  let appendConn: DuckDBConnection;
  try {
    appendConn = await instance.connect();
    await appendConn.run(CREATE_EVENTS);
    // A temporary table lives in memory, is private to this connection and never reaches the file.
    await appendConn.run(`CREATE TEMP TABLE IF NOT EXISTS events_staging AS SELECT * FROM events LIMIT 0`);
  } catch (cause) {
    instance.closeSync();
    openFiles.delete(file);
    throw new AppError('store_error', `Cannot prepare the event store ${file}: ${(cause as Error).message}`, {
      cause,
    });
  }

  const db = new Kysely<EventTables>({ dialect: new DuckDbDialect(instance) });
  const exclusive = createMutex();
  let closed = false;

  async function append(events: readonly EventRecord[]): Promise<AppendResult> {
    if (events.length === 0) return { inserted: 0, duplicates: 0 };
    for (const e of events) checkEventRecord(e);
    return exclusive(async () => {
      await appendConn.run('DELETE FROM events_staging');
      const appender = await appendConn.createAppender('events_staging');
      try {
        for (const e of events) appendRow(appender, e);
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
      // Commit is durable: DuckDB writes and syncs its WAL before the statement returns.
      let minTs = Infinity;
      let maxTs = -Infinity;
      for (const e of events) {
        if (e.ts < minTs) minTs = e.ts;
        if (e.ts > maxTs) maxTs = e.ts;
      }
      // Literal bounds (validated integers) let the planner prune row groups by their min/max statistics.
      const result = await appendConn.run(
        `INSERT INTO events (${COLUMN_LIST})
         SELECT ${COLUMN_LIST} FROM events_staging s
         WHERE NOT EXISTS (
           SELECT 1 FROM events e
           WHERE e.ts BETWEEN epoch_ms(${Math.trunc(minTs - DEDUPE_WINDOW_MS)}::BIGINT)
                          AND epoch_ms(${Math.trunc(maxTs + DEDUPE_WINDOW_MS)}::BIGINT)
             AND e.event_id = s.event_id)
         QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY ts) = 1`,
      );
      await appendConn.run('DELETE FROM events_staging');
      const inserted = result.rowsChanged;
      return { inserted, duplicates: events.length - inserted };
    });
  }

  function identifiedFilter(identified: boolean | undefined) {
    if (identified === undefined) return sql`true`;
    return identified ? sql`user_id IS NOT NULL` : sql`user_id IS NULL`;
  }

  return {
    dialect: 'duckdb',
    db,
    append,
    async eventsOfSubjects(subjectIds, limit) {
      if (subjectIds.length === 0) return [];
      let q = db
        .selectFrom('events')
        .selectAll()
        .where('subject_id', 'in', [...subjectIds])
        .orderBy('ts')
        .orderBy('event_id');
      if (limit !== undefined) q = q.limit(limit);
      const rows = await q.execute();
      return rows.map((r) => eventFromRow(r as unknown as Record<string, unknown>));
    },
    async deleteSubjects(subjectIds) {
      if (subjectIds.length === 0) return 0;
      return exclusive(async () => {
        const r = await db
          .deleteFrom('events')
          .where('subject_id', 'in', [...subjectIds])
          .executeTakeFirst();
        return Number(r.numDeletedRows);
      });
    },
    async deleteOlderThan(beforeTs, filter = {}) {
      return exclusive(async () => {
        const types = filter.types;
        const r = await sql<{ n: number }>`
          DELETE FROM events
          WHERE ts < ${new Date(beforeTs)}
            AND ${identifiedFilter(filter.identified)}
            AND ${types && types.length > 0 ? sql`type IN (${sql.join([...types])})` : sql`true`}`.execute(
          db,
        );
        return Number(r.numAffectedRows ?? 0);
      });
    },
    async count() {
      const r = await sql<{ n: number }>`SELECT count(*) AS n FROM events`.execute(db);
      return Number(r.rows[0]?.n ?? 0);
    },
    async ping() {
      await sql`SELECT 1`.execute(db);
    },
    async compact() {
      // CHECKPOINT writes the WAL into the file and releases the blocks of deleted rows.
      await exclusive(async () => {
        await appendConn.run('FORCE CHECKPOINT');
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await exclusive(async () => {
        await db.destroy();
        appendConn.closeSync();
        instance.closeSync();
      });
      openFiles.delete(file);
    },
  };
}
