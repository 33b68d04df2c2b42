/**
 * The hits of one sliding window (a sign-in failure, a read of personal data, a public request), oldest
 * first, as a queue with a moving head: adding and expiring cost O(1) per hit, where an array shifted or
 * spliced at the front moved every remaining entry on each request once a busy IP filled it. At most
 * `capacity` of the newest hits are kept: past a few thousand the oldest carry no extra signal.
 */
export type HitWindow = {
  /** Adds `count` hits at `at` carrying `value`, and forgets those at or before `at - windowMs`. */
  add(at: number, value: string, count?: number): void;
  /** Hits in the window. */
  readonly size: number;
  /** Distinct values among the hits in the window. */
  distinct(): number;
};

export function createHitWindow(windowMs: number, capacity: number): HitWindow {
  let ats: number[] = [];
  let values: string[] = [];
  let head = 0;
  return {
    add(at, value, count = 1) {
      // Never more than `capacity` pushed: the older ones would be cut off right away.
      for (let i = 0; i < Math.min(count, capacity); i++) {
        ats.push(at);
        values.push(value);
      }
      while (head < ats.length && ats[head]! <= at - windowMs) head++;
      if (ats.length - head > capacity) head = ats.length - capacity;
      // Drop the dead front once it is most of the arrays: each hit is copied at most once more.
      if (head > 64 && head * 2 > ats.length) {
        ats = ats.slice(head);
        values = values.slice(head);
        head = 0;
      }
    },
    get size() {
      return ats.length - head;
    },
    distinct() {
      const seen = new Set<string>();
      for (let i = head; i < values.length; i++) seen.add(values[i]!);
      return seen.size;
    },
  };
}
