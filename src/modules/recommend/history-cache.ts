/**
 * Per-subject event histories kept in process, so a recommendation request does not scan the event store.
 *
 * - Read-through: a subject not in the cache is loaded with one query (its latest `perSubject` events).
 * - Fold-in: new events reach cached subjects by tailing the event store on `received_at` (one query for
 *   every subject, at most every `syncEveryMs`). Requests do not wait for it (they are answered from the
 *   cache while the tail runs, so a slow event store never delays serving) unless `blockOnTail` is set
 *   (read-your-writes: tests, tools). Tailing the store
 *   rather than hooking ingestion also sees events written by other processes (server mode workers).
 *   The tail re-reads an overlap window and skips event ids it already folded, so writers whose clocks
 *   differ by less than `overlapMs` lose nothing; entries older than `maxAgeMs` are reloaded as a last
 *   resort (e.g. an import with old receipt times).
 * - Bounded: a least-recently-used map of at most `maxSubjects` subjects.
 * - Invalidation: erasure and "personalisation off" drop the subject's entry; a read-through that was in
 *   flight when its subject was dropped is discarded, never stored.
 */
import { sql } from 'kysely';
import type { EventStore } from '../../storage/index.ts';

export type HistoryRow = {
  readonly eventId: string;
  readonly type: string;
  readonly productId: string;
  readonly sessionId: string | null;
  readonly ts: number;
};

export type HistoryCacheConfig = {
  maxSubjects?: number;
  /** Events kept per subject (the latest by event time). */
  perSubject?: number;
  /** Minimum time between two tail queries; 0 tails before every read. */
  syncEveryMs?: number;
  /** Wait for a due tail before answering (every new event is seen by the very next request). */
  blockOnTail?: boolean;
  overlapMs?: number;
  maxAgeMs?: number;
  /** A tail longer than this (a bulk import) clears the cache instead of folding row by row. */
  maxTail?: number;
};

type LoadedRow = {
  event_id: string;
  subject_id: string;
  type: string;
  product_id: string | null;
  session_id: string | null;
  ts: Date | string | number;
  received_at: Date | string | number;
};

/** `foldAfter`: events received at or before this time are already in `rows` (a prefilled entry). */
type Entry = {
  rows: HistoryRow[];
  loadedAt: number;
  seen: Set<string>;
  foldAfter: number;
  /** Changes whenever `rows` do: what is derived from a history (candidate lists) is keyed by it. */
  version: number;
};

const msOf = (d: Date | string | number) => (d instanceof Date ? d.getTime() : new Date(d).getTime());

/** Inserts a row keeping `rows` sorted by time (new events are nearly always the latest: push). */
function insertSorted(rows: HistoryRow[], row: HistoryRow) {
  let i = rows.length;
  while (i > 0 && rows[i - 1]!.ts > row.ts) i--;
  if (i === rows.length) rows.push(row);
  else rows.splice(i, 0, row);
}

export type HistoryCache = ReturnType<typeof createHistoryCache>;

export function createHistoryCache(events: EventStore, config: HistoryCacheConfig = {}) {
  const maxSubjects = config.maxSubjects ?? 20_000;
  const perSubject = config.perSubject ?? 300;
  const syncEveryMs = config.syncEveryMs ?? 50;
  const blockOnTail = config.blockOnTail ?? false;
  const overlapMs = config.overlapMs ?? 2_000;
  const maxAgeMs = config.maxAgeMs ?? 10 * 60_000;
  const maxTail = config.maxTail ?? 20_000;
  const entries = new Map<string, Entry>();
  /** Loads in flight per subject, and subjects dropped while one was: their result is not stored. */
  const loading = new Map<string, number>();
  const cancelled = new Set<string>();
  let epoch = 0;
  let watermark: number | null = null;
  /** Ids of folded events received at or after `watermark − overlapMs`. */
  let folded = new Map<string, number>();
  let lastSync = -Infinity;
  let syncing: Promise<void> | null = null;
  let versions = 0;

  function touch(id: string, e: Entry) {
    entries.delete(id);
    entries.set(id, e);
  }

  function put(id: string, e: Entry) {
    e.version = ++versions;
    entries.delete(id);
    entries.set(id, e);
    while (entries.size > maxSubjects) entries.delete(entries.keys().next().value!);
  }

  function foldRow(subjectId: string, row: HistoryRow, receivedAt: number, into = entries) {
    const e = into.get(subjectId);
    if (!e || receivedAt <= e.foldAfter || e.seen.has(row.eventId)) return;
    e.seen.add(row.eventId);
    e.version = ++versions;
    insertSorted(e.rows, row);
    if (e.rows.length > perSubject) e.rows.splice(0, e.rows.length - perSubject);
  }

  async function tail(): Promise<void> {
    if (watermark === null) {
      const r = await events.db
        .selectFrom('events')
        .select((eb) => eb.fn.max('received_at').as('m'))
        .executeTakeFirst();
      watermark = r?.m ? msOf(r.m) : 0;
      return;
    }
    const from = watermark - overlapMs;
    const rows = await events.db
      .selectFrom('events')
      .select(['event_id', 'subject_id', 'type', 'product_id', 'session_id', 'ts', 'received_at'])
      .where('received_at', '>=', new Date(from))
      .where('product_id', 'is not', null)
      .orderBy('received_at')
      .limit(maxTail + 1)
      .execute();
    let max = watermark;
    for (const r of rows) max = Math.max(max, msOf(r.received_at));
    if (rows.length > maxTail) {
      // A bulk load: reloading on demand is cheaper and simpler than folding it in.
      entries.clear();
      epoch++;
      folded = new Map();
      watermark = max;
      return;
    }
    for (const r of rows) {
      if (folded.has(r.event_id)) continue;
      const at = msOf(r.received_at);
      folded.set(r.event_id, at);
      foldRow(
        r.subject_id,
        {
          eventId: r.event_id,
          type: r.type,
          productId: r.product_id!,
          sessionId: r.session_id,
          ts: msOf(r.ts),
        },
        at,
      );
    }
    watermark = max;
    for (const [id, at] of folded) if (at < max - overlapMs) folded.delete(id);
  }

  function sync(): Promise<void> {
    if (syncing) return syncing;
    if (performance.now() - lastSync < syncEveryMs) return Promise.resolve();
    syncing = tail().finally(() => {
      syncing = null;
      lastSync = performance.now();
    });
    return syncing;
  }

  async function load(ids: readonly string[]): Promise<void> {
    const startEpoch = epoch;
    for (const id of ids) loading.set(id, (loading.get(id) ?? 0) + 1);
    let rows: LoadedRow[];
    try {
      // The latest `perSubject` events of each subject, in one query for the whole batch.
      const r = await sql<LoadedRow>`
        select event_id, subject_id, type, product_id, session_id, ts, received_at from (
          select event_id, subject_id, type, product_id, session_id, ts, received_at,
            row_number() over (partition by subject_id order by ts desc) as rn
          from events
          where subject_id in (${sql.join(ids)}) and product_id is not null
        ) latest
        where rn <= ${perSubject}
        order by ts desc`.execute(events.db);
      rows = r.rows;
    } finally {
      for (const id of ids) {
        const n = (loading.get(id) ?? 1) - 1;
        if (n > 0) loading.set(id, n);
        else loading.delete(id);
      }
    }
    const fresh = new Map<string, Entry>();
    for (const id of ids) {
      const dropped = cancelled.has(id);
      if (!loading.has(id)) cancelled.delete(id);
      if (!dropped && epoch === startEpoch)
        fresh.set(id, {
          rows: [],
          loadedAt: performance.now(),
          seen: new Set(),
          foldAfter: -Infinity,
          version: 0,
        });
    }
    const since = (watermark ?? 0) - overlapMs;
    for (let x = rows.length - 1; x >= 0; x--) {
      const r = rows[x]!;
      const e = fresh.get(r.subject_id);
      if (!e || e.rows.length >= perSubject) continue;
      e.rows.push({
        eventId: r.event_id,
        type: r.type,
        productId: r.product_id!,
        sessionId: r.session_id,
        ts: msOf(r.ts),
      });
      // Events the next tail will see again: remember them so they are not counted twice.
      if (msOf(r.received_at) >= since) e.seen.add(r.event_id);
    }
    for (const [id, e] of fresh) {
      if (e.rows.length > perSubject) e.rows.splice(0, e.rows.length - perSubject);
      put(id, e);
    }
  }

  let prefilling = 0;
  /** Subjects invalidated while a prefill was running: its snapshot may predate their erasure. */
  const droppedDuringPrefill = new Set<string>();
  async function prefillFrom(
    rows: readonly (Omit<HistoryRow, 'eventId'> & { subjectId: string })[],
    asOf: number,
  ): Promise<void> {
    await sync();
    const startEpoch = epoch;
    const bySubject = new Map<string, Omit<HistoryRow, 'eventId'>[]>();
    for (const r of rows) {
      if (entries.has(r.subjectId) || loading.has(r.subjectId)) continue;
      const list = bySubject.get(r.subjectId);
      if (list) list.push(r);
      else bySubject.set(r.subjectId, [r]);
    }
    const latest = new Map<string, number>();
    for (const [id, l] of bySubject)
      latest.set(
        id,
        l.reduce((m, r) => Math.max(m, r.ts), -Infinity),
      );
    // The most recently active shoppers are inserted last, so they are the ones the bound keeps.
    const subjects = [...bySubject].sort((a, b) => latest.get(a[0])! - latest.get(b[0])!).slice(-maxSubjects);
    const fresh = new Map<string, Entry>();
    for (const [id, list] of subjects) {
      list.sort((a, b) => a.ts - b.ts);
      const kept = list.slice(Math.max(0, list.length - perSubject)).map((r) => ({
        // Prefilled events need no id: the tail skips what was received by `asOf` by time.
        eventId: '',
        type: r.type,
        productId: r.productId,
        sessionId: r.sessionId,
        ts: r.ts,
      }));
      fresh.set(id, {
        rows: kept,
        loadedAt: performance.now(),
        seen: new Set(),
        foldAfter: asOf,
        version: 0,
      });
    }
    const caughtUp = await events.db
      .selectFrom('events')
      .select(['event_id', 'subject_id', 'type', 'product_id', 'session_id', 'ts', 'received_at'])
      .where('received_at', '>', new Date(asOf))
      .where('product_id', 'is not', null)
      .orderBy('received_at')
      .limit(maxTail)
      .execute();
    if (epoch !== startEpoch || caughtUp.length >= maxTail) return;
    for (const r of caughtUp)
      foldRow(
        r.subject_id,
        {
          eventId: r.event_id,
          type: r.type,
          productId: r.product_id!,
          sessionId: r.session_id,
          ts: msOf(r.ts),
        },
        msOf(r.received_at),
        fresh,
      );
    for (const [id, e] of fresh)
      if (!entries.has(id) && !loading.has(id) && !droppedDuringPrefill.has(id)) put(id, e);
  }

  // Misses of requests that arrive together (the same turn of the event loop) share one query.
  let queued: { ids: Set<string>; done: Promise<void> } | null = null;
  function loadBatched(ids: readonly string[]): Promise<void> {
    if (!queued) {
      const batch = { ids: new Set<string>(), done: Promise.resolve() };
      batch.done = new Promise<void>((resolve, reject) =>
        setImmediate(() => {
          if (queued === batch) queued = null;
          load([...batch.ids]).then(resolve, reject);
        }),
      );
      queued = batch;
    }
    for (const id of ids) queued.ids.add(id);
    return queued.done;
  }

  /**
   * The subjects' latest events merged, oldest first (at most `perSubject`; not to be mutated), and a
   * stamp that changes whenever any of them changes (new events folded in, reloaded, dropped).
   */
  async function snapshot(
    subjectIds: readonly string[],
  ): Promise<{ rows: readonly HistoryRow[]; stamp: string }> {
    // The first tail only sets the watermark; it must precede any load so nothing falls between them.
    if (blockOnTail || watermark === null) await sync();
    else
      void sync().catch(() => {
        // A failed tail is retried on a later request; the cache keeps serving what it has.
      });
    const now = performance.now();
    const missing = subjectIds.filter((id) => {
      const e = entries.get(id);
      return !e || now - e.loadedAt > maxAgeMs;
    });
    if (missing.length > 0) await loadBatched(missing);
    const lists: HistoryRow[][] = [];
    let stamp = '';
    for (const id of subjectIds) {
      const e = entries.get(id);
      if (e) {
        touch(id, e);
        lists.push(e.rows);
      }
      stamp += `${e?.version ?? -1}.`;
    }
    if (lists.length === 1) return { rows: lists[0]!, stamp };
    const merged = lists.flat().sort((a, b) => a.ts - b.ts);
    return { rows: merged.length > perSubject ? merged.slice(merged.length - perSubject) : merged, stamp };
  }

  return {
    /**
     * Warms the cache from events already in memory (training reads every recent event anyway), so
     * shoppers' first requests need no query. `rows` are one snapshot of the store whose latest
     * receipt time is `asOf`; events received after it are caught up with one query.
     */
    async prefill(
      rows: readonly (Omit<HistoryRow, 'eventId'> & { subjectId: string })[],
      asOf: number,
    ): Promise<void> {
      prefilling++;
      try {
        await prefillFrom(rows, asOf);
      } finally {
        if (--prefilling === 0) droppedDuringPrefill.clear();
      }
    },
    snapshot,
    /** The subjects' latest events merged, oldest first (at most `perSubject`), as a copy. */
    async rowsOf(subjectIds: readonly string[]): Promise<HistoryRow[]> {
      return (await snapshot(subjectIds)).rows.slice();
    },
    /** Drops the subjects (erasure, personalisation off); an in-flight load for them is discarded. */
    invalidate(subjectIds: readonly string[]): void {
      for (const id of subjectIds) {
        entries.delete(id);
        if (loading.has(id)) cancelled.add(id);
        if (prefilling > 0) droppedDuringPrefill.add(id);
      }
    },
    has(subjectId: string): boolean {
      return entries.has(subjectId);
    },
    get size(): number {
      return entries.size;
    },
  };
}
