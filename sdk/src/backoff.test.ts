import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it('doubles the step on every attempt, jittered between half and the whole step', () => {
    for (const [attempt, step] of [
      [0, 1000],
      [1, 2000],
      [2, 4000],
      [5, 32_000],
    ] as const) {
      expect(backoffDelay(attempt, 0)).toBe(step / 2);
      expect(backoffDelay(attempt, 1)).toBe(step);
      expect(backoffDelay(attempt, 0.5)).toBe((step * 3) / 4);
    }
  });

  it('never waits longer than the cap, however many attempts failed', () => {
    expect(backoffDelay(50, 1)).toBe(60_000);
    expect(backoffDelay(1000, 1, 1000, 10_000)).toBe(10_000);
  });
});
