import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHitWindow } from './hit-window.ts';

describe('hit window', () => {
  it('agrees with a plain list of hits (expiry by time, newest kept up to capacity)', () => {
    const WINDOW = 1_000;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.array(
          fc.record({
            // Gaps that land exactly on the window's edge as well as between.
            gap: fc.oneof(fc.constantFrom(0, 250, 500, 1_000), fc.integer({ min: 0, max: 400 })),
            value: fc.constantFrom('a', 'b', 'c', 'd'),
            count: fc.integer({ min: 1, max: 80 }),
          }),
          { maxLength: 300 },
        ),
        (capacity, steps) => {
          const w = createHitWindow(WINDOW, capacity);
          let model: { at: number; value: string }[] = [];
          let t = 0;
          for (const s of steps) {
            t += s.gap;
            w.add(t, s.value, s.count);
            for (let i = 0; i < s.count; i++) model.push({ at: t, value: s.value });
            model = model.filter((h) => h.at > t - WINDOW).slice(-capacity);
            expect(w.size).toBe(model.length);
            expect(w.distinct()).toBe(new Set(model.map((h) => h.value)).size);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps no more than its capacity when many hits come at once', () => {
    const w = createHitWindow(60_000, 10_000);
    for (let i = 0; i < 100; i++) w.add(i, 'x', 10_000);
    expect(w.size).toBe(10_000);
    expect(w.distinct()).toBe(1);
  });
});
