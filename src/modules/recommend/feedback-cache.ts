/**
 * "Not interested" feedback per shopper, kept in process so a recommendation request reads no table.
 *
 * - Read-through: a shopper not in the cache is loaded on first request; the misses of requests arriving
 *   together (one turn of the event loop) share one query.
 * - Write-through: feedback given through this process is in the cache before `add` resolves, so the
 *   very next request honours it (also when a load for the shopper is in flight: it is applied on top).
 * - Other processes (server mode): new rows are tailed from the table on `created_at` at most every
 *   `syncEveryMs`, in the background, re-reading an overlap window (adding a row twice is harmless).
 * - Bounded (LRU of `maxSubjects`); erasure drops the shopper and discards a load in flight for them.
 */
import type { RecommendStore } from './store.ts';

export type FeedbackCacheConfig = {
  maxSubjects?: number;
  syncEveryMs?: number;
  /** Wait for a due tail before answering (tests, tools). */
  blockOnTail?: boolean;
  overlapMs?: number;
  /** A tail longer than this clears the cache instead of folding row by row. */
  maxTail?: number;
};

export type Feedback = { readonly items: ReadonlySet<string>; readonly categories: ReadonlySet<string> };
type Entry = { items: Set<string>; categories: Set<string> };

export const NO_FEEDBACK: Feedback = { items: new Set(), categories: new Set() };

export type FeedbackCache = ReturnType<typeof createFeedbackCache>;

export function createFeedbackCache(store: RecommendStore, config: FeedbackCacheConfig = {}) {
  const maxSubjects = config.maxSubjects ?? 20_000;
  const syncEveryMs = config.syncEveryMs ?? 50;
  const blockOnTail = config.blockOnTail ?? false;
  const overlapMs = config.overlapMs ?? 2_000;
  const maxTail = config.maxTail ?? 5_000;
  const entries = new Map<string, Entry>();
  const loading = new Map<string, number>();
  const cancelled = new Set<string>();
  /** Feedback written while a load for the shopper was in flight: applied when it lands. */
  const late = new Map<string, { kind: 'item' | 'category'; value: string }[]>();
  let epoch = 0;
  let watermark: number | null = null;
  let lastSync = -Infinity;
  let syncing: Promise<void> | null = null;

  function apply(e: Entry, kind: string, value: string) {
    if (kind === 'item') e.items.add(value);
    else if (kind === 'category') e.categories.add(value);
  }

  function put(id: string, e: Entry) {
    entries.delete(id);
    entries.set(id, e);
    while (entries.size > maxSubjects) entries.delete(entries.keys().next().value!);
  }

  async function tail(): Promise<void> {
    const from = watermark === null ? null : watermark - overlapMs;
    const rows = await store.feedbackSince(from ?? 0, maxTail + 1);
    let max = watermark ?? 0;
    for (const r of rows) max = Math.max(max, Number(r.created_at));
    if (watermark === null) {
      // The first tail only sets the watermark: everything before it is read on demand.
      watermark = rows.length > maxTail ? await store.latestFeedbackAt() : max;
      return;
    }
    if (rows.length > maxTail) {
      entries.clear();
      epoch++;
      watermark = await store.latestFeedbackAt();
      return;
    }
    for (const r of rows) {
      const e = entries.get(r.subject_id);
      if (e) apply(e, r.kind, r.value);
    }
    watermark = max;
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
    let rows: Awaited<ReturnType<RecommendStore['feedbackOf']>>;
    try {
      rows = await store.feedbackOf(ids);
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
      const pending = late.get(id);
      if (!loading.has(id)) late.delete(id);
      if (dropped || epoch !== startEpoch) continue;
      const e: Entry = { items: new Set(), categories: new Set() };
      for (const f of pending ?? []) apply(e, f.kind, f.value);
      fresh.set(id, e);
    }
    for (const r of rows) {
      const e = fresh.get(r.subject_id);
      if (e) apply(e, r.kind, r.value);
    }
    for (const [id, e] of fresh) put(id, e);
  }

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

  return {
    /** The shoppers' feedback merged (read-through). */
    async of(subjectIds: readonly string[]): Promise<Feedback> {
      if (blockOnTail || watermark === null) await sync();
      else
        void sync().catch(() => {
          // Retried on a later request; the cache keeps serving what it has.
        });
      const missing = subjectIds.filter((id) => !entries.has(id));
      if (missing.length > 0) await loadBatched(missing);
      if (subjectIds.length === 1) return entries.get(subjectIds[0]!) ?? NO_FEEDBACK;
      const merged: Entry = { items: new Set(), categories: new Set() };
      for (const id of subjectIds) {
        const e = entries.get(id);
        if (!e) continue;
        for (const v of e.items) merged.items.add(v);
        for (const v of e.categories) merged.categories.add(v);
      }
      return merged;
    },
    /** Records feedback the store has just accepted for this shopper (write-through). */
    add(subjectId: string, kind: 'item' | 'category', value: string): void {
      const e = entries.get(subjectId);
      if (e) apply(e, kind, value);
      if (loading.has(subjectId)) {
        const list = late.get(subjectId);
        if (list) list.push({ kind, value });
        else late.set(subjectId, [{ kind, value }]);
      }
    },
    /** Drops the shoppers (erasure, personalisation off); a load in flight for them is discarded. */
    invalidate(subjectIds: readonly string[]): void {
      for (const id of subjectIds) {
        entries.delete(id);
        late.delete(id);
        if (loading.has(id)) cancelled.add(id);
      }
    },
    has(subjectId: string): boolean {
      return entries.has(subjectId);
    },
  };
}
