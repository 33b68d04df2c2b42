/**
 * Group commit. Requests hand their accepted events to the buffer; every few milliseconds (or sooner
 * when enough are waiting) one append writes everything collected so far, and only after it committed
 * does each waiting request resolve — so an HTTP acknowledgement always means "durably stored", while
 * the store sees a few large appends instead of many small ones.
 */
import { AppError } from '../../kernel/errors.ts';
import type { EventRecord } from '../../storage/ports.ts';
import type { DropCount, QuarantineEntry } from './store.ts';

export type CommitUnit = { events: EventRecord[]; quarantined: QuarantineEntry[]; drops: DropCount[] };

export type IngestBufferOptions = {
  /** Writes one group: events to the event store, diagnostics to the state store. */
  commit(unit: CommitUnit): Promise<void>;
  /** Longest wait before a group is written, ms. */
  maxDelayMs?: number;
  /** A group this large is written at once. */
  maxEvents?: number;
};

type Waiter = { unit: CommitUnit; resolve(): void; reject(e: unknown): void };

export type IngestBuffer = {
  submit(unit: CommitUnit): Promise<void>;
  /** Writes whatever is waiting and refuses new work; resolves when everything submitted is committed. */
  stop(): Promise<void>;
  readonly pending: number;
};

function mergeDrops(drops: DropCount[]): DropCount[] {
  const byKey = new Map<string, DropCount>();
  for (const d of drops) {
    const key = `${d.sourceId}\u0000${d.reason}`;
    const prev = byKey.get(key);
    if (prev) {
      prev.count += d.count;
      prev.lastAt = Math.max(prev.lastAt, d.lastAt);
    } else byKey.set(key, { ...d });
  }
  return [...byKey.values()];
}

export function createIngestBuffer(options: IngestBufferOptions): IngestBuffer {
  const maxDelayMs = options.maxDelayMs ?? 4;
  const maxEvents = options.maxEvents ?? 20_000;
  let waiting: Waiter[] = [];
  let waitingEvents = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function flushOnce(): Promise<void> {
    const group = waiting;
    waiting = [];
    waitingEvents = 0;
    if (group.length === 0) return;
    // The same event sent twice within one group (a retry racing its original) is written once.
    const events = new Map<string, EventRecord>();
    for (const w of group)
      for (const e of w.unit.events) if (!events.has(e.eventId)) events.set(e.eventId, e);
    const unit: CommitUnit = {
      events: [...events.values()],
      quarantined: group.flatMap((w) => w.unit.quarantined),
      drops: mergeDrops(group.flatMap((w) => w.unit.drops)),
    };
    try {
      await options.commit(unit);
      for (const w of group) w.resolve();
    } catch (e) {
      for (const w of group) w.reject(e);
    }
  }

  function kick(): void {
    if (running) return;
    clearTimeout(timer);
    timer = undefined;
    running = (async () => {
      // Keep writing while work arrived during the previous write: that is the group of the next commit.
      while (waiting.length > 0) await flushOnce();
    })().finally(() => {
      running = undefined;
      if (waiting.length > 0) schedule();
    });
  }

  function schedule(): void {
    if (running) return;
    if (waitingEvents >= maxEvents) return kick();
    timer ??= setTimeout(kick, maxDelayMs);
  }

  return {
    get pending() {
      return waitingEvents;
    },
    submit(unit) {
      if (stopped) {
        return Promise.reject(
          new AppError('unavailable', 'The server is shutting down. Retry in a moment.', { retryAfter: 1 }),
        );
      }
      if (unit.events.length === 0 && unit.quarantined.length === 0 && unit.drops.length === 0)
        return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        waiting.push({ unit, resolve, reject });
        waitingEvents += unit.events.length + unit.quarantined.length;
        schedule();
      });
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      while (running || waiting.length > 0) {
        if (running) await running;
        else kick();
      }
    },
  };
}
