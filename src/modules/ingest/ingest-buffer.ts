/**
 * Group commit. Requests hand their accepted events to the buffer; every few milliseconds (or sooner
 * when enough are waiting) one append writes everything collected so far, and only after it committed
 * does each waiting request resolve — so an HTTP acknowledgement always means "durably stored", while
 * the store sees a few large appends instead of many small ones.
 */
import type { Kysely } from 'kysely';
import { AppError } from '../../kernel/errors.ts';
import type { EventRecord } from '../../storage/ports.ts';
import type { DropCount, QuarantineEntry } from './store.ts';

export type CommitUnit = { events: EventRecord[]; quarantined: QuarantineEntry[]; drops: DropCount[] };

/**
 * One step of the group's state-store transaction (a vault write, an identity link), handed the
 * transaction. Not serialisable: it stays in the process that received the request.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the port's transaction handle is untyped
export type GroupWrite = (trx: Kysely<any>) => Promise<unknown>;

/** What one commit writes: the merged units of every waiting request, and their state writes. */
export type GroupCommit = CommitUnit & { writes: GroupWrite[] };

export type IngestBufferOptions = {
  /** Writes one group: events to the event store; diagnostics and state writes to the state store. */
  commit(group: GroupCommit): Promise<void>;
  /** Longest wait before a group is written, ms. */
  maxDelayMs?: number;
  /** A group this large is written at once. */
  maxEvents?: number;
  /** More waiting than this and new work is refused with 503 + Retry-After instead of queueing without bound. */
  maxPendingEvents?: number;
};

type Waiter = {
  unit: CommitUnit;
  writes: readonly GroupWrite[];
  /** When it was submitted (performance.now()). */
  at: number;
  resolve(): void;
  reject(e: unknown): void;
};

export type IngestBuffer = {
  submit(unit: CommitUnit, writes?: readonly GroupWrite[]): Promise<void>;
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
  const maxDelayMs = options.maxDelayMs ?? 10;
  const maxEvents = options.maxEvents ?? 20_000;
  const maxPendingEvents = options.maxPendingEvents ?? Number.POSITIVE_INFINITY;
  let waiting: Waiter[] = [];
  let waitingEvents = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  // When the last commit finished: the next group gathers for maxDelayMs from then, so requests the event
  // loop could not read during a commit join it instead of each paying a commit of its own.
  let lastCommitEnd = Number.NEGATIVE_INFINITY;

  /** How long the waiting group may still gather company (0: write it now). */
  function gatherMs(): number {
    const first = waiting[0];
    if (first === undefined || stopped || waitingEvents >= maxEvents) return 0;
    return Math.max(0, Math.max(first.at, lastCommitEnd) + maxDelayMs - performance.now());
  }

  async function flushOnce(): Promise<void> {
    const group = waiting;
    waiting = [];
    waitingEvents = 0;
    if (group.length === 0) return;
    // The same event sent twice within one group (a retry racing its original) is written once.
    const events = new Map<string, EventRecord>();
    for (const w of group)
      for (const e of w.unit.events) if (!events.has(e.eventId)) events.set(e.eventId, e);
    const unit: GroupCommit = {
      events: [...events.values()],
      quarantined: group.flatMap((w) => w.unit.quarantined),
      drops: mergeDrops(group.flatMap((w) => w.unit.drops)),
      writes: group.flatMap((w) => w.writes),
    };
    try {
      await options.commit(unit);
      for (const w of group) w.resolve();
    } catch (e) {
      for (const w of group) w.reject(e);
    } finally {
      lastCommitEnd = performance.now();
    }
  }

  function kick(): void {
    if (running) return;
    clearTimeout(timer);
    timer = undefined;
    running = (async () => {
      // Keep writing while work waits whose gathering time is up: that is the group of the next commit.
      while (waiting.length > 0 && gatherMs() === 0) await flushOnce();
    })().finally(() => {
      running = undefined;
      if (waiting.length > 0) schedule();
    });
  }

  function schedule(): void {
    if (running) return;
    const ms = gatherMs();
    if (ms === 0) return kick();
    timer ??= setTimeout(kick, ms);
  }

  return {
    get pending() {
      return waitingEvents;
    },
    submit(unit, writes = []) {
      if (stopped) {
        return Promise.reject(
          new AppError('unavailable', 'The server is shutting down. Retry in a moment.', { retryAfter: 1 }),
        );
      }
      if (
        unit.events.length === 0 &&
        unit.quarantined.length === 0 &&
        unit.drops.length === 0 &&
        writes.length === 0
      )
        return Promise.resolve();
      if (waitingEvents > 0 && waitingEvents + unit.events.length > maxPendingEvents) {
        return Promise.reject(
          new AppError('unavailable', 'Candor is behind on storing events. Retry in a moment.', {
            retryAfter: 1,
          }),
        );
      }
      return new Promise<void>((resolve, reject) => {
        waiting.push({ unit, writes, at: performance.now(), resolve, reject });
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
