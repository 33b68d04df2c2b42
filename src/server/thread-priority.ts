/**
 * Keeps the thread that serves requests ahead of this process's other threads when they compete for a
 * core: DuckDB's threads (inserts, checkpoints, analytics queries), the libuv pool (file syncs, DuckDB calls)
 * and V8's garbage-collection helpers get a higher nice value; the main thread keeps its own. On a small
 * machine these background threads come in bursts (a checkpoint, a concurrent marking) that took whole
 * cores while requests waited in the run queue: acknowledgements behind such a burst were the slow 1% at
 * half load. Nice only orders threads that want a core at the same moment, so on an idle machine the
 * background work runs at full speed. See docs/decisions/0015-background-threads-yield.md.
 *
 * Linux only (per-thread nice through /proc/self/task); elsewhere it does nothing. Threads started later
 * inherit the nice value of the thread that starts them, except those the main thread starts, so the
 * task list is read again every few seconds.
 */
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

export type ThreadPriorityOptions = {
  /** Nice value for every thread but the main one: 1–19; 0 turns this off. */
  nice: number;
  /** How often the task list is read again for new threads. */
  everyMs?: number;
  /** For tests: the process whose threads these are, how to list them and how to set one's priority. */
  pid?: number;
  listThreads?: () => number[] | null;
  setThreadPriority?: (tid: number, nice: number) => void;
};

export type ThreadPriority = {
  /** Threads lowered so far (still running or not). */
  readonly lowered: number;
  stop(): void;
};

const RESCAN_MS = 2_000;

function procThreads(): number[] | null {
  try {
    return readdirSync('/proc/self/task').map(Number);
  } catch {
    return null; // not Linux, or /proc not mounted
  }
}

export function lowerBackgroundThreads(options: ThreadPriorityOptions): ThreadPriority {
  const pid = options.pid ?? process.pid;
  const list = options.listThreads ?? procThreads;
  const set = options.setThreadPriority ?? ((tid: number, nice: number) => setPriority(tid, nice));
  const seen = new Set<number>();
  let lowered = 0;
  let timer: NodeJS.Timeout | undefined;

  const scan = (): boolean => {
    const tids = list();
    if (tids === null) return false;
    const alive = new Set(tids);
    // Thread ids are reused once a thread ends: forget those gone, so a new thread with an old id counts.
    for (const tid of seen) if (!alive.has(tid)) seen.delete(tid);
    for (const tid of tids) {
      if (tid === pid || seen.has(tid)) continue;
      seen.add(tid);
      try {
        set(tid, options.nice);
        lowered++;
      } catch {
        // The thread ended between the listing and now, or the system refuses: it keeps its priority.
      }
    }
    return true;
  };

  if (options.nice > 0 && scan()) {
    timer = setInterval(scan, options.everyMs ?? RESCAN_MS);
    timer.unref();
  }
  return {
    get lowered() {
      return lowered;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
