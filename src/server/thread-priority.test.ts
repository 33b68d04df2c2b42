import { afterEach, describe, expect, it, vi } from 'vitest';
import { lowerBackgroundThreads, type ThreadPriority } from './thread-priority.ts';

const started: ThreadPriority[] = [];
afterEach(() => {
  for (const p of started.splice(0)) p.stop();
  vi.useRealTimers();
});

function fakeProcess(tids: number[]) {
  const threads = { tids: [...tids] };
  const calls: [number, number][] = [];
  return {
    threads,
    calls,
    start(nice: number, failOn: number[] = []) {
      const p = lowerBackgroundThreads({
        nice,
        pid: 100,
        everyMs: 1_000,
        listThreads: () => threads.tids,
        setThreadPriority: (tid, n) => {
          if (failOn.includes(tid)) throw new Error('ESRCH');
          calls.push([tid, n]);
        },
      });
      started.push(p);
      return p;
    },
  };
}

describe('lowerBackgroundThreads', () => {
  it('lowers every thread but the main one, once each', () => {
    vi.useFakeTimers();
    const proc = fakeProcess([100, 101, 102, 103]);
    const p = proc.start(10);
    expect(proc.calls).toEqual([
      [101, 10],
      [102, 10],
      [103, 10],
    ]);
    vi.advanceTimersByTime(3_000);
    expect(proc.calls).toHaveLength(3);
    expect(p.lowered).toBe(3);
  });

  it('finds threads started later, and a new thread that reuses an ended one id', () => {
    vi.useFakeTimers();
    const proc = fakeProcess([100, 101]);
    proc.start(7);
    proc.threads.tids = [100, 101, 104];
    vi.advanceTimersByTime(1_000);
    expect(proc.calls).toEqual([
      [101, 7],
      [104, 7],
    ]);
    proc.threads.tids = [100, 104];
    vi.advanceTimersByTime(1_000);
    proc.threads.tids = [100, 101, 104];
    vi.advanceTimersByTime(1_000);
    expect(proc.calls).toEqual([
      [101, 7],
      [104, 7],
      [101, 7],
    ]);
  });

  it('goes on past a thread it cannot lower', () => {
    const proc = fakeProcess([100, 101, 102]);
    const p = proc.start(10, [101]);
    expect(proc.calls).toEqual([[102, 10]]);
    expect(p.lowered).toBe(1);
  });

  it('does nothing when turned off (0) or where threads cannot be listed', () => {
    vi.useFakeTimers();
    const proc = fakeProcess([100, 101]);
    proc.start(0);
    vi.advanceTimersByTime(5_000);
    expect(proc.calls).toEqual([]);
    const list = vi.fn(() => null);
    started.push(lowerBackgroundThreads({ nice: 10, listThreads: list, setThreadPriority: () => undefined }));
    vi.advanceTimersByTime(5_000);
    expect(list).toHaveBeenCalledTimes(1);
  });
});
