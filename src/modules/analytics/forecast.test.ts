import { describe, expect, it } from 'vitest';
import { seededRandom } from './fixture.testkit.ts';
import { croston, forecastSeries, holtWinters, maseScale, seasonalNaive, smape } from './forecast.ts';

const WEEK = [10, 12, 14, 13, 18, 30, 26];

describe('demand forecasts', () => {
  it('a pure weekly pattern is forecast exactly, beside its baseline', () => {
    const y = Array.from({ length: 84 }, (_, t) => WEEK[t % 7]!);
    const f = forecastSeries(y, 14);
    expect(f.errors.mase).toBe(0);
    expect(f.baseline.mase).toBe(0);
    expect(f.points.map((p) => p.value)).toEqual(Array.from({ length: 14 }, (_, i) => WEEK[(84 + i) % 7]!));
    expect(f.folds).toBe(3);
  });

  it('a trend with a weekly season picks Holt-Winters, which beats seasonal naive', () => {
    const rnd = seededRandom(3);
    const truth = (t: number) => 20 + 0.5 * t + WEEK[t % 7]! - 18;
    const y = Array.from({ length: 112 }, (_, t) => truth(t) + (rnd() - 0.5));
    const f = forecastSeries(y, 28);
    expect(f.model).toBe('holt_winters');
    expect(f.errors.mase!).toBeLessThan(f.baseline.mase!);
    // 28 days ahead, the forecast stays within a few units of the true level and inside its 95 % interval.
    for (const p of f.points) {
      const t = 111 + p.step;
      expect(Math.abs(p.value - truth(t))).toBeLessThan(3);
      expect(p.lower95).toBeLessThanOrEqual(p.value);
      expect(p.upper95).toBeGreaterThanOrEqual(p.value);
    }
  });

  it('noisy level demand without season prefers an average to seasonal naive', () => {
    const rnd = seededRandom(11);
    const y = Array.from({ length: 120 }, () => 50 + Math.round((rnd() - 0.5) * 20));
    const f = forecastSeries(y, 14);
    expect(['moving_average_7', 'moving_average_28', 'croston', 'holt_winters']).toContain(f.model);
    expect(f.errors.mase!).toBeLessThan(f.baseline.mase!);
    expect(Math.abs(f.points[0]!.value - 50)).toBeLessThan(4);
    // About 95 % of fresh days from the same process fall inside the 95 % interval.
    const future = Array.from({ length: 200 }, () => 50 + Math.round((rnd() - 0.5) * 20));
    const p = f.points[0]!;
    const inside = future.filter((v) => v >= p.lower95 && v <= p.upper95).length / future.length;
    expect(inside).toBeGreaterThan(0.85);
  });

  it('intermittent demand is forecast as a rate, never negative', () => {
    const rnd = seededRandom(5);
    const y = Array.from({ length: 90 }, () => (rnd() < 0.15 ? 1 + Math.floor(rnd() * 3) : 0));
    const rate = y.reduce((a, b) => a + b, 0) / y.length;
    const f = forecastSeries(y, 14);
    expect(f.points.every((p) => p.lower80 >= 0 && p.lower95 >= 0)).toBe(true);
    expect(Math.abs(croston(y, 1)[0]! - rate)).toBeLessThan(rate);
    expect(f.errors.mase!).toBeLessThanOrEqual(f.baseline.mase!);
  });

  it('a short history falls back to seasonal naive without a backtest', () => {
    const y = [1, 2, 3, 4, 5, 6, 7, 1, 2, 3];
    const f = forecastSeries(y, 14);
    expect(f.model).toBe('seasonal_naive');
    expect(f.folds).toBe(0);
    expect(f.errors).toEqual({ mase: null, smape: null });
    expect(f.points[0]!.value).toBe(seasonalNaive(y, 1)[0]);
  });

  it('error measures and building blocks', () => {
    expect(smape([0, 10], [0, 10])).toBe(0);
    expect(smape([10], [0])).toBe(200);
    expect(maseScale([1, 2, 3, 4, 5, 6, 7, 2, 3])).toBe(1);
    expect(
      holtWinters(
        Array.from({ length: 42 }, (_, t) => WEEK[t % 7]!),
        7,
      ).map(Math.round),
    ).toEqual(WEEK);
  });
});
