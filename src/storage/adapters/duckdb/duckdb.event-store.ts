/**
 * The embedded event store: one DuckDB file. DuckDB lets exactly one process open a file for writing, so
 * the process that opens it serves every query; a second process gets a `store_locked` error that says
 * what to do. An append is one `INSERT … SELECT` over the rows handed to DuckDB as one JSON array of
 * positional rows in UTF-8 bytes (event-rows.ts), which DuckDB parses on its own threads: the JavaScript
 * thread (which also serves HTTP) only runs one JSON.stringify, where an Appender took 25 native calls per
 * event and a staging table two more statements (`npm run bench -- ingest` shows the main thread's CPU per
 * event). The INSERT skips ids already stored, so appends are idempotent on event_id (duplicates inside one
 * batch and against stored rows are both skipped).
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
import { DuckDBBlobValue, DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { Kysely, sql, type CompiledQuery } from 'kysely';
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
import { toDuckDbValue } from './duckdb.dialect.ts';
import { rowsJson, rowsOfJson, SELECT_JSON_ROWS } from './event-rows.ts';
import { leftoverSegments, openJournal } from './journal.ts';
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

/** Rows per INSERT statement: keeps one statement's JSON text a few MB. */
const ROWS_PER_STATEMENT = 10_000;
/**
 * Accepted events waiting for DuckDB beyond which `accept` waits for them to be stored: a few seconds of
 * a busy shop's traffic, enough to ride out a checkpoint, while memory stays bounded.
 */
const MAX_BACKLOG_EVENTS = 50_000;
/**
 * How long accepted events may gather before they go into the table, unless a read waits for them or
 * STORE_EVENTS have gathered: DuckDB's cost per insert statement and commit is large beside its cost
 * per row, so fewer, larger inserts leave more of the machine to the requests.
 */
const STORE_DELAY_MS = 200;
const STORE_EVENTS = 20_000;
const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');
/**
 * Keeps, under `id`, whichever of `value` and the value already there is dated earlier (`ts`, `tsOf`).
 * Returns whether the id was there already.
 */
function keepEarliest<T>(
  into: Map<string, T>,
  id: string,
  value: T,
  ts: number,
  tsOf: (v: T) => number,
): boolean {
  const prev = into.get(id);
  if (prev === undefined || ts < tsOf(prev)) into.set(id, value);
  return prev !== undefined;
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

  // Queries wait at the gate while a purge swaps the file, and until every event accepted before they
  // started is in the table (`stored`); appends wait on `exclusive`.
  const gate = createGate(() => stored());
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
  type Insert = { json: Buffer; lookup: { minTs: number; maxTs: number } | null };

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
      [new DuckDBBlobValue(json)],
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

  /**
   * Stores events whose ids are unique among themselves: `unique` maps each id to its time, `rowsOf` gives
   * the rows themselves (one per id). `json`, when given, is those same rows already as JSON arrays
   * (accepted batches): used as they are when none needs the lookup, and then no row is ever built.
   */
  function appendUnique(
    unique: ReadonlyMap<string, number>,
    rowsOf: () => readonly EventRecord[],
    json?: readonly Buffer[],
  ): Promise<number> {
    return exclusive(async () => {
      // Sorted under the lock, so two appends of one id can never both pass as new.
      const check = new Set<string>();
      let minTs = Infinity;
      let maxTs = -Infinity;
      for (const [eventId, ts] of unique) {
        // Added before writing: a commit that fails after the rows landed must not let a retry pass as new.
        const maybeStored = ids.add(eventId);
        if (maybeStored || ts - DEDUPE_WINDOW_MS < filterFrom) {
          check.add(eventId);
          if (ts < minTs) minTs = ts;
          if (ts > maxTs) maxTs = ts;
        }
      }
      if (check.size === 0 && json !== undefined) return runInserts(jsonInserts(json));
      const fresh: EventRecord[] = [];
      const checked: EventRecord[] = [];
      for (const e of rowsOf()) (check.has(e.eventId) ? checked : fresh).push(e);
      return runInserts([
        ...insertsOf(fresh, null),
        ...insertsOf(checked, checked.length > 0 ? { minTs, maxTs } : null),
      ]);
    });
  }

  /** `appendUnique` over rows at hand. */
  function appendRows(unique: ReadonlyMap<string, EventRecord>): Promise<number> {
    const times = new Map<string, number>();
    for (const [eventId, e] of unique) times.set(eventId, e.ts);
    return appendUnique(times, () => [...unique.values()]);
  }

  /** JSON arrays of rows joined into statements of about ROWS_PER_STATEMENT rows (by whole arrays). */
  function jsonInserts(json: readonly Buffer[]): Insert[] {
    const out: Insert[] = [];
    let parts: Buffer[] = [];
    let size = 0;
    const flush = () => {
      if (parts.length > 0) out.push({ json: Buffer.concat([OPEN, ...parts, CLOSE]), lookup: null });
      parts = [];
      size = 0;
    };
    for (const array of json) {
      // `[` and `]` are one byte each in UTF-8; an empty array adds nothing.
      const inner = array.subarray(1, -1);
      if (inner.length === 0) continue;
      if (parts.length > 0) parts.push(COMMA);
      parts.push(inner);
      // A few hundred bytes a row: a statement's text stays a few MB, as insertsOf keeps it.
      size += inner.length;
      if (size >= ROWS_PER_STATEMENT * 300) flush();
    }
    flush();
    return out;
  }

  /**
   * Duplicates inside the batch are dropped here (the earliest-dated copy wins, as the lookup keeps the
   * stored one). Returns whether there were any. The events were checked when they came in.
   */
  function uniqueOf(events: readonly EventRecord[], into: Map<string, EventRecord>): boolean {
    let hadDuplicate = false;
    for (const e of events)
      hadDuplicate = keepEarliest(into, e.eventId, e, e.ts, (p) => p.ts) || hadDuplicate;
    return hadDuplicate;
  }

  async function append(events: readonly EventRecord[]): Promise<AppendResult> {
    if (events.length === 0) return { inserted: 0, duplicates: 0 };
    for (const e of events) checkEventRecord(e);
    const unique = new Map<string, EventRecord>();
    uniqueOf(events, unique);
    // Accepted events go first, so an event accepted and then appended again is recognised.
    await stored();
    const inserted = await appendRows(unique);
    return { inserted, duplicates: events.length - inserted };
  }

  // Accepted events: durable in the journal, on their way into the table. `acceptedSeq` counts accepted
  // batches, `storedSeq` those in the table; a read waits until storedSeq reaches the acceptedSeq it saw.
  // Only their ids and times stay in memory besides the journal's bytes: the rows themselves would be
  // garbage the collector carries into its old generation while they wait, and they are needed only
  // when an id may already be stored (rare), and then read back from those bytes.
  type Accepted = { seq: number; ids: readonly string[]; ts: Float64Array; json: Buffer };
  // Segments a previous process left (read before this process starts its own).
  const leftovers = leftoverSegments(file);
  const journal = await openJournal(file);
  let backlog: Accepted[] = [];
  let backlogEvents = 0;
  let acceptedSeq = 0;
  let storedSeq = 0;
  /** Closed journal segments whose records are in `backlog` or being stored. */
  let closedSegments: string[] = [];
  let storing: Promise<void> | null = null;
  let storeError: AppError | null = null;
  const waiters: { seq: number; resolve(): void; reject(e: unknown): void }[] = [];

  function settleWaiters(): void {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (storedSeq >= w.seq) {
        waiters.splice(i, 1);
        w.resolve();
      } else if (storeError) {
        waiters.splice(i, 1);
        w.reject(storeError);
      }
    }
  }

  /** Resolves once every event accepted before this call is in the table. */
  function stored(): Promise<void> {
    const seq = acceptedSeq;
    if (storedSeq >= seq) return Promise.resolve();
    if (storeError) return Promise.reject(storeError);
    const waiting = new Promise<void>((resolve, reject) => waiters.push({ seq, resolve, reject }));
    // Someone waits: no more gathering.
    storeBacklog(true);
    return waiting;
  }

  let storeTimer: NodeJS.Timeout | undefined;

  /**
   * Moves the backlog into the table, the whole backlog in one step; more steps follow while there is
   * more (`now`: at once, else after gathering as STORE_DELAY_MS says).
   */
  function storeBacklog(now = false): void {
    if (storing || backlog.length === 0) return;
    if (!now && waiters.length === 0 && backlogEvents < STORE_EVENTS) {
      storeTimer ??= setTimeout(() => {
        storeTimer = undefined;
        storeBacklog(true);
      }, STORE_DELAY_MS);
      return;
    }
    clearTimeout(storeTimer);
    storeTimer = undefined;
    storing = (async () => {
      const { closed, taken } = await journal.rotate(() => {
        const t = backlog;
        backlog = [];
        return t;
      });
      if (closed) closedSegments.push(closed);
      try {
        // The earliest-dated copy of an id wins, as uniqueOf keeps it.
        const unique = new Map<string, number>();
        let duplicates = false;
        for (const a of taken) {
          for (let i = 0; i < a.ids.length; i++) {
            const ts = a.ts[i]!;
            duplicates = keepEarliest(unique, a.ids[i]!, ts, ts, (t) => t) || duplicates;
          }
        }
        const rowsOf = () => {
          const rows = new Map<string, EventRecord>();
          for (const a of taken) uniqueOf(rowsOfJson(a.json.toString('utf8')), rows);
          return [...rows.values()];
        };
        await appendUnique(unique, rowsOf, duplicates ? undefined : taken.map((a) => a.json));
        const done = closedSegments;
        closedSegments = [];
        await journal.remove(done);
        storedSeq = taken.at(-1)?.seq ?? storedSeq;
        backlogEvents -= taken.reduce((n, a) => n + a.ids.length, 0);
        storeError = null;
        settleWaiters();
      } catch (cause) {
        // Still durable in the journal: keep them first in line and try again shortly.
        backlog = [...taken, ...backlog];
        storeError = new AppError(
          'store_error',
          `Cannot store accepted events in ${file}: ${(cause as Error).message}. They are kept in its journal and stored when the event store works again.`,
          { cause },
        );
        settleWaiters();
        await new Promise((r) => setTimeout(r, 1000));
      }
    })().finally(() => {
      storing = null;
      if (backlog.length > 0) storeBacklog();
    });
  }

  /**
   * Durable once the journal has the batch; in the table soon after. Reads started after it resolves
   * wait for it, so to every caller it is as if appended.
   */
  async function accept(events: readonly EventRecord[]): Promise<void> {
    if (events.length === 0) return;
    if (closed) throw new AppError('unavailable', 'The event store is closing. Retry in a moment.');
    for (const e of events) checkEventRecord(e);
    if (storeError) throw storeError;
    // Backpressure: a store that cannot keep up makes its callers wait rather than hold unbounded memory.
    while (backlogEvents >= MAX_BACKLOG_EVENTS) await stored();
    const json = rowsJson(events);
    const eventIds = events.map((e) => e.eventId);
    const ts = Float64Array.from(events, (e) => e.ts);
    backlogEvents += events.length;
    try {
      await journal.write(json, () => {
        backlog.push({ seq: ++acceptedSeq, ids: eventIds, ts, json });
      });
    } catch (cause) {
      backlogEvents -= events.length;
      const message = `Cannot write to the event journal of ${file}: ${(cause as Error).message}`;
      throw new AppError('store_error', message, { cause });
    }
    storeBacklog();
  }

  // Events a previous process accepted but did not store before it stopped (a crash): stored now, through
  // the exact lookup where the id filter knows them, so replaying what did reach the table adds nothing.
  if (leftovers.length > 0) {
    try {
      for (const segment of leftovers) {
        const unique = new Map<string, EventRecord>();
        for (const record of segment.records) uniqueOf(rowsOfJson(record), unique);
        await appendRows(unique);
      }
      await journal.remove(leftovers.map((l) => l.path));
    } catch (cause) {
      await journal.close().catch(() => undefined);
      await db.destroy().catch(() => undefined);
      appendConn.closeSync();
      instance.closeSync();
      openFiles.delete(file);
      throw new AppError('store_error', `Cannot store the journal of ${file}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }

  /**
   * A write made while holding `exclusive`, on the append connection: through `db` it would wait at the gate
   * for the accepted events, which wait for `exclusive` to be stored. Returns the rows it changed.
   */
  async function writeHoldingLock(query: CompiledQuery): Promise<number> {
    const params = query.parameters.map(toDuckDbValue);
    const result = await appendConn.run(query.sql, params.length > 0 ? params : undefined);
    return result.rowsChanged;
  }

  function identifiedFilter(identified: boolean | undefined) {
    if (identified === undefined) return sql`true`;
    return identified ? sql`user_id IS NOT NULL` : sql`user_id IS NULL`;
  }

  return {
    dialect: 'duckdb',
    db,
    append,
    accept,
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
      // After this, the subjects' accepted events are in the table (and gone from the journal's files).
      await stored();
      return exclusive(() =>
        writeHoldingLock(
          db
            .deleteFrom('events')
            .where('subject_id', 'in', [...subjectIds])
            .compile(),
        ),
      );
    },
    async deleteOlderThan(beforeTs, filter = {}) {
      await stored();
      const types = filter.types;
      return exclusive(() =>
        writeHoldingLock(
          sql`
            DELETE FROM events
            WHERE ts < ${new Date(beforeTs)}
              AND ${identifiedFilter(filter.identified)}
              AND ${types && types.length > 0 ? sql`type IN (${sql.join([...types])})` : sql`true`}`.compile(
            db,
          ),
        ),
      );
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
      await stored();
      await exclusive(async () => {
        await appendConn.run('FORCE CHECKPOINT');
      });
    },
    async purge(): Promise<PurgeResult> {
      await stored();
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
      // Everything accepted goes into the table before the file closes; the journal is then empty.
      await stored();
      await journal.close();
      // Queries already running finish first: a query whose instance closes under it never settles. Later
      // ones get the driver's "instance closed" error.
      await exclusive(() =>
        gate.alone(async () => {
          await db.destroy();
          appendConn.closeSync();
          instance.closeSync();
        }),
      );
      openFiles.delete(file);
    },
  };
}
