/**
 * The embedded event store: one DuckDB file. DuckDB lets exactly one process open a file for writing, so
 * the process that opens it serves every query; a second process gets a `store_locked` error that says
 * what to do. An append is one `INSERT … SELECT` over the rows handed to DuckDB as one JSON text, which
 * DuckDB parses on its own threads: the JavaScript thread (which also serves HTTP) only runs one
 * JSON.stringify, where an Appender took 25 native calls per event and a staging table two more statements
 * (`npm run bench -- ingest` shows the main thread's CPU per event). The INSERT skips ids already stored, so
 * appends are idempotent on
 * event_id (duplicates inside one batch and against stored rows are both skipped).
 *
 * Why no PRIMARY KEY: DuckDB maintains it as an ART index on random ids, which every append must update
 * (`npm run bench -- duckdb-dedupe` and docs/decisions/0004 have the measurement). A retried message carries the same id and nearly the same
 * time (ingestion corrects device clocks with Segment's sentAt rule, which shifts a retry's time only by
 * the change in network delay), so the anti-join reads only rows within DEDUPE_WINDOW_MS of the batch's
 * time range, which DuckDB's per-row-group min/max statistics prune to the row groups of recent data.
 * That lookup still reads every id of the window, so events whose ids an in-memory filter has certainly
 * never seen (recent-ids.ts: loaded at open, fed by every append) skip it; the rest still take it.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { Kysely, sql } from 'kysely';
import { AppError } from '../../../kernel/errors.ts';
import { EVENT_COLUMNS, checkEventRecord, eventFromRow } from '../../event-columns.ts';
import type { AppendResult, EventRecord, EventStore, EventTables } from '../../ports.ts';
import {
  createGate,
  createGatedDialect,
  duckDbFileBytes,
  removeLeftoverRewrite,
  swapInFreshCopy,
  writeFreshCopy,
  type PurgeResult,
} from './duckdb.rewrite.ts';
import { createIdFilter } from './recent-ids.ts';

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

/**
 * How an append's JSON is read: one object per event with the EventRecord's field names. Times and
 * integers arrive as JSON numbers and are truncated as the column needs (epoch ms → TIMESTAMP).
 */
const JSON_TYPE = { text: 'VARCHAR', ts: 'DOUBLE', double: 'DOUBLE', integer: 'DOUBLE' } as const;
const ROW_STRUCTURE = JSON.stringify([
  Object.fromEntries(EVENT_COLUMNS.map((c) => [c.field, JSON_TYPE[c.kind]])),
]);
const SELECT_JSON_ROWS = `SELECT ${EVENT_COLUMNS.map((c) => {
  const f = `r."${c.field}"`;
  const v =
    c.kind === 'ts' ? `epoch_ms(trunc(${f})::BIGINT)` : c.kind === 'integer' ? `trunc(${f})::INTEGER` : f;
  return `${v} AS ${c.column}`;
}).join(', ')} FROM (SELECT unnest(from_json($1::VARCHAR, '${ROW_STRUCTURE}')) AS r)`;
/** Rows per INSERT statement: keeps one statement's JSON text a few MB. */
const ROWS_PER_STATEMENT = 10_000;
/** JSON.stringify writes a lone UTF-16 surrogate as `\udXXX`, which DuckDB's JSON reader refuses. */
const LONE_SURROGATE_ESCAPE = /\\ud[89a-f]/i;

/**
 * The rows as one JSON array. A string with a lone surrogate (valid in JavaScript, not in UTF-8) gets
 * U+FFFD in its place, which is what handing it to native code did before; rare, so checked on the text.
 */
function rowsJson(rows: readonly EventRecord[]): string {
  const json = JSON.stringify(rows);
  if (!LONE_SURROGATE_ESCAPE.test(json)) return json;
  return JSON.stringify(
    rows.map((e) => {
      const out: Record<string, unknown> = {};
      for (const c of EVENT_COLUMNS) {
        const v = e[c.field];
        out[c.field] = typeof v === 'string' ? v.toWellFormed() : v;
      }
      return out;
    }),
  );
}

/** Serialises async work on one resource (the append connection). */
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
  // A purge cut short by a crash leaves its temporary copy; the database file itself is complete.
  removeLeftoverRewrite(file);
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
  } catch (cause) {
    instance.closeSync();
    openFiles.delete(file);
    throw new AppError('store_error', `Cannot prepare the event store ${file}: ${(cause as Error).message}`, {
      cause,
    });
  }

  // Queries wait at the gate while a purge swaps the file; appends wait on `exclusive`.
  const gate = createGate();
  const gated = createGatedDialect(gate, instance);
  const db = new Kysely<EventTables>({ dialect: gated.dialect });
  const exclusive = createMutex();
  let closed = false;

  // Ids of the stored events an append can meet: every id appended since open, plus those of events dated
  // from `filterFrom` on that were already in the file (loaded first thing, before any append runs). An
  // event whose dedupe window starts at or after `filterFrom` and whose id the filter has never seen is new.
  const ids = createIdFilter();
  let filterFrom = Number.POSITIVE_INFINITY;
  void exclusive(async () => {
    // An hour of slack: a retry's time moves only by the change in network delay (see DEDUPE_WINDOW_MS).
    const from = Date.now() - DEDUPE_WINDOW_MS - 60 * 60 * 1000;
    try {
      const result = await appendConn.stream(
        `SELECT event_id FROM events WHERE ts >= epoch_ms(${Math.trunc(from)}::BIGINT)`,
      );
      for (
        let chunk = await result.fetchChunk();
        chunk && chunk.rowCount > 0;
        chunk = await result.fetchChunk()
      ) {
        for (const id of chunk.getColumnValues(0)) ids.add(String(id));
      }
      filterFrom = from;
    } catch {
      // Without the loaded ids every append takes the exact lookup: slower, still correct.
    }
  });

  /** One INSERT of these rows; `lookup` adds the exact check against the stored rows of their window. */
  type Insert = { json: string; lookup: { minTs: number; maxTs: number } | null };

  function insertsOf(rows: readonly EventRecord[], lookup: Insert['lookup']): Insert[] {
    const out: Insert[] = [];
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      out.push({ json: rowsJson(rows.slice(i, i + ROWS_PER_STATEMENT)), lookup });
    }
    return out;
  }

  async function runInsert({ json, lookup }: Insert): Promise<number> {
    // Literal bounds (validated integers) let the planner prune row groups by their min/max statistics.
    const result = await appendConn.run(
      lookup === null
        ? `INSERT INTO events (${COLUMN_LIST}) ${SELECT_JSON_ROWS}`
        : `INSERT INTO events (${COLUMN_LIST})
         SELECT * FROM (${SELECT_JSON_ROWS}) s
         WHERE NOT EXISTS (
           SELECT 1 FROM events e
           WHERE e.ts BETWEEN epoch_ms(${Math.trunc(lookup.minTs - DEDUPE_WINDOW_MS)}::BIGINT)
                          AND epoch_ms(${Math.trunc(lookup.maxTs + DEDUPE_WINDOW_MS)}::BIGINT)
             AND e.event_id = s.event_id)`,
      [json],
    );
    return result.rowsChanged;
  }

  /**
   * Writes the inserts in one transaction. The commit is durable: DuckDB writes and syncs its WAL before
   * the statement (or COMMIT) returns. One insert is one auto-committed statement.
   */
  async function runInserts(inserts: readonly Insert[]): Promise<number> {
    if (inserts.length === 0) return 0;
    if (inserts.length === 1) return runInsert(inserts[0]!);
    await appendConn.run('BEGIN TRANSACTION');
    try {
      let n = 0;
      for (const insert of inserts) n += await runInsert(insert);
      await appendConn.run('COMMIT');
      return n;
    } catch (e) {
      await appendConn.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  async function append(events: readonly EventRecord[]): Promise<AppendResult> {
    if (events.length === 0) return { inserted: 0, duplicates: 0 };
    // Duplicates inside the batch are dropped here (the earliest-dated copy wins, as the anti-join below
    // keeps the stored one), so the database only has to compare against rows already stored.
    const unique = new Map<string, EventRecord>();
    for (const e of events) {
      checkEventRecord(e);
      const prev = unique.get(e.eventId);
      if (prev === undefined || e.ts < prev.ts) unique.set(e.eventId, e);
    }
    return exclusive(async () => {
      // Sorted under the lock, so two appends of one id can never both pass as new.
      const fresh: EventRecord[] = [];
      const check: EventRecord[] = [];
      let minTs = Infinity;
      let maxTs = -Infinity;
      for (const e of unique.values()) {
        if (e.ts - DEDUPE_WINDOW_MS >= filterFrom && !ids.mightContain(e.eventId)) fresh.push(e);
        else {
          check.push(e);
          if (e.ts < minTs) minTs = e.ts;
          if (e.ts > maxTs) maxTs = e.ts;
        }
      }
      // Before writing: a commit that fails after the rows landed must not let a retry pass as new.
      for (const id of unique.keys()) ids.add(id);
      const inserted = await runInserts([
        ...insertsOf(fresh, null),
        ...insertsOf(check, check.length > 0 ? { minTs, maxTs } : null),
      ]);
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
      // One equality per id: DuckDB pushes `subject_id = ?` into the scan and reads the other columns only
      // where it matches, while an IN list is evaluated after every column is read (4× slower on 5M events).
      // A person has a few ids; a long list (a batch of people) is one IN scan rather than one scan per id.
      const ids = [...new Set(subjectIds)];
      const parts =
        ids.length <= 8
          ? ids.map((id) => sql`SELECT * FROM events WHERE subject_id = ${id}`)
          : [sql`SELECT * FROM events WHERE subject_id IN (${sql.join(ids)})`];
      const r = await sql<Record<string, unknown>>`
        SELECT * FROM (${sql.join(parts, sql` UNION ALL `)}) ORDER BY ts, event_id
        ${limit !== undefined ? sql`LIMIT ${Math.max(0, Math.trunc(limit))}` : sql``}`.execute(db);
      return r.rows.map((row) => eventFromRow(row));
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
    async purge(): Promise<PurgeResult> {
      return exclusive(() =>
        gate.alone(async () => {
          const bytesBefore = duckDbFileBytes(file);
          await writeFreshCopy(appendConn, file);
          // Every connection goes before the rename; the old file is checkpointed, so nothing is lost.
          await gated.detach();
          appendConn.closeSync();
          instance.closeSync();
          try {
            swapInFreshCopy(file);
          } finally {
            // Reopen whichever complete file is in place, so the store stays usable even if the swap failed.
            instance = await DuckDBInstance.create(file);
            appendConn = await instance.connect();
            await gated.attach(instance);
          }
          return { rewritten: true, bytesBefore, bytesAfter: duckDbFileBytes(file) };
        }),
      );
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
