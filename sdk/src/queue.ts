import { backoffDelay } from './backoff.ts';
import type { KV, Runtime, Transport } from './types.ts';

/** One persisted entry: an event message for `/v1/batch`, or a consent decision for `/v1/consent` (`c`). */
export type QueueItem = { i: string; c?: 1; b: Record<string, unknown> };

export type QueueOptions = {
  writeKey: string;
  flushAt: number;
  flushIntervalMs: number;
  /** Oldest entries are dropped beyond this, so a long offline period cannot exhaust device storage. */
  maxItems?: number;
};

export type Queue = ReturnType<typeof createQueue>;

export const QUEUE_KEY = 'candor.q';
/** Batches stay under the 64 KB that browsers allow for keepalive and beacon bodies. */
const MAX_BYTES = 60_000;
const MAX_BATCH = 100;

/**
 * The persisted outbox. Every change is a read-modify-write of device storage, so a reload, a crash or a
 * second tab never loses an entry; an entry leaves storage only once the server answered for it. Delivery is
 * at least once: a retry after a lost response resends the same messageIds, which the server deduplicates.
 */
export function createQueue(kv: KV, transport: Transport, rt: Runtime, options: QueueOptions) {
  const inflight = new Set<string>();
  // Entries handed to a beacon while the server was failing: kept stored for the next page, skipped on this one.
  const beaconed = new Set<string>();
  const maxItems = options.maxItems ?? 1000;
  let attempt = 0;
  let running: Promise<void> | undefined;
  let cleared = false;
  let cancelTimer: (() => void) | undefined;

  function load(): QueueItem[] {
    try {
      const raw = kv.get(QUEUE_KEY);
      const items: unknown = raw ? JSON.parse(raw) : [];
      return Array.isArray(items) ? (items as QueueItem[]) : [];
    } catch {
      return [];
    }
  }

  function save(items: QueueItem[]): void {
    try {
      if (items.length) kv.set(QUEUE_KEY, JSON.stringify(items));
      else kv.remove(QUEUE_KEY);
    } catch {
      // Storage full or blocked: the entries still in memory of this page are sent; nothing else can be done.
    }
  }

  function remove(ids: string[]): void {
    save(load().filter((item) => !ids.includes(item.i)));
  }

  /**
   * The server checks consent at event time, and its ledger dates a decision when the decision arrives, a
   * round trip after the shopper's click. Events queued behind the decision were all made after the click, so
   * they are dated no earlier than its acknowledgement; otherwise the server would find no consent yet.
   */
  function consentAcknowledged(at: number): void {
    const iso = new Date(at).toISOString();
    save(
      load().map((item) =>
        !item.c && String(item.b.timestamp) < iso ? { ...item, b: { ...item.b, timestamp: iso } } : item,
      ),
    );
  }

  function timer(ms: number): void {
    cancelTimer?.();
    cancelTimer = rt.setTimer(() => {
      cancelTimer = undefined;
      void flush();
    }, ms);
  }

  /** The next request: a consent decision alone, or a run of event messages within the size limits. */
  function next(items: QueueItem[]): { path: string; body: string; ids: string[] } | undefined {
    const sentAt = new Date(rt.now()).toISOString();
    const pending = items.filter((item) => !inflight.has(item.i) && !beaconed.has(item.i));
    const first = pending[0];
    if (!first) return undefined;
    if (first.c) {
      return {
        path: '/v1/consent',
        body: JSON.stringify({ ...first.b, writeKey: options.writeKey }),
        ids: [first.i],
      };
    }
    const batch: Record<string, unknown>[] = [];
    const ids: string[] = [];
    let size = 0;
    for (const item of pending) {
      if (item.c || batch.length >= MAX_BATCH) break;
      const message = { ...item.b, sentAt };
      const bytes = JSON.stringify(message).length + 1;
      if (batch.length && size + bytes > MAX_BYTES) break;
      batch.push(message);
      ids.push(item.i);
      size += bytes;
    }
    return { path: '/v1/batch', body: JSON.stringify({ batch, writeKey: options.writeKey }), ids };
  }

  /** Sends everything that is due, one request at a time; on failure waits with backoff and jitter. */
  function flush(): Promise<void> {
    // A run already under way may have passed the entries pushed since: go again after it, unless it failed.
    if (running) return running.then(() => (attempt ? undefined : flush()));
    if (cleared || !rt.online()) return Promise.resolve();
    running = run().finally(() => (running = undefined));
    return running;
  }

  async function run(): Promise<void> {
    cancelTimer?.();
    cancelTimer = undefined;
    // Storage is read again before every request: entries pushed meanwhile (or by another tab) go too.
    for (let request = next(load()); request && !cleared; request = next(load())) {
      request.ids.forEach((id) => inflight.add(id));
      const result = await transport.send(request.path, request.body);
      request.ids.forEach((id) => inflight.delete(id));
      if (cleared) return;
      if (result === 'retry') {
        timer(backoffDelay(attempt++, rt.random()));
        return;
      }
      // 'drop': the server refused the request for good (a 4xx); resending it would only repeat that.
      attempt = 0;
      remove(request.ids);
      if (result === 'ok' && request.path === '/v1/consent') consentAcknowledged(rt.now());
    }
  }

  function push(item: QueueItem): void {
    const items = load();
    items.push(item);
    save(items.slice(-maxItems));
    // While backing off, new entries wait for the retry rather than hammering a server that is down.
    if (attempt > 0) return;
    if (item.c || items.length >= options.flushAt) void flush();
    else if (!cancelTimer) timer(options.flushIntervalMs);
  }

  /**
   * The page is going away: hand what is left to the browser's beacon. When the last request succeeded the
   * beaconed entries are removed (the browser delivers them); while the server is failing they stay stored and
   * are resent on the next page, where the server's messageId dedupe absorbs any double delivery.
   */
  function unload(): void {
    if (cleared || !rt.online()) return;
    for (let request = next(load()), guard = 0; request && guard < 20; request = next(load()), guard++) {
      if (!transport.beacon(request.path, request.body)) return;
      if (attempt === 0) remove(request.ids);
      else request.ids.forEach((id) => beaconed.add(id));
    }
  }

  /** Forgets every entry, in memory and on the device, and stops retrying. */
  function clear(): void {
    cleared = true;
    cancelTimer?.();
    cancelTimer = undefined;
    attempt = 0;
    inflight.clear();
    beaconed.clear();
    save([]);
  }

  return {
    push,
    flush,
    unload,
    clear,
    size: (): number => load().length,
    /** A fresh chance (network back, page shown again): retry now instead of waiting out the backoff. */
    resume(): void {
      attempt = 0;
      beaconed.clear();
      void flush();
    },
  };
}
