import { describe, expect, it } from 'vitest';
import {
  discreteLaplace,
  discreteLaplacePmf,
  discreteLaplaceVariance,
  noiseHalfWidth,
  noisy,
} from './dp-noise.ts';

const SAMPLES = 200_000;
const TAIL = 6;
/** Upper 1e-6 quantile of chi-square with 14 degrees of freedom (15 bins: -6..6 and both tails). */
const CHI2_CRITICAL_14DF = 54.64;

function draw(epsilon: number, sensitivity: number, n = SAMPLES): number[] {
  return Array.from({ length: n }, () => discreteLaplace(epsilon, sensitivity));
}

/** Pearson's chi-square of the samples against the exact pmf of (ε, Δ), bins -TAIL..TAIL plus two tails. */
function chiSquare(samples: readonly number[], epsilon: number, sensitivity: number): number {
  const observed = new Map<number, number>();
  for (const x of samples) {
    const bin = Math.max(-TAIL - 1, Math.min(TAIL + 1, x));
    observed.set(bin, (observed.get(bin) ?? 0) + 1);
  }
  let inner = 0;
  for (let k = -TAIL; k <= TAIL; k++) inner += discreteLaplacePmf(k, epsilon, sensitivity);
  let chi = 0;
  for (let bin = -TAIL - 1; bin <= TAIL + 1; bin++) {
    const p = Math.abs(bin) > TAIL ? (1 - inner) / 2 : discreteLaplacePmf(bin, epsilon, sensitivity);
    const expected = p * samples.length;
    chi += ((observed.get(bin) ?? 0) - expected) ** 2 / expected;
  }
  return chi;
}

describe('two-sided geometric noise', () => {
  it('has a pmf that sums to 1', () => {
    let total = 0;
    for (let k = -500; k <= 500; k++) total += discreteLaplacePmf(k, 0.5, 1);
    expect(total).toBeCloseTo(1, 12);
  });

  it('follows the exact discrete Laplace distribution (chi-square, 200k draws, p < 1e-6 rejects)', () => {
    const samples = draw(1, 1);
    expect(chiSquare(samples, 1, 1)).toBeLessThan(CHI2_CRITICAL_14DF);
    // The same test has power: the same draws are rejected against the distribution of a different ε.
    expect(chiSquare(samples, 1.2, 1)).toBeGreaterThan(CHI2_CRITICAL_14DF * 5);
  });

  it('scales with the sensitivity: (ε=2, Δ=2) is distributed as (ε=1, Δ=1)', () => {
    expect(chiSquare(draw(2, 2), 1, 1)).toBeLessThan(CHI2_CRITICAL_14DF);
  });

  it('is centred with the variance 2α/(1-α)²', () => {
    const samples = draw(0.5, 1);
    const mean = samples.reduce((a, x) => a + x, 0) / samples.length;
    const variance = samples.reduce((a, x) => a + (x - mean) ** 2, 0) / (samples.length - 1);
    const expected = discreteLaplaceVariance(0.5, 1);
    // Standard error of the mean is sqrt(var/n) ≈ 0.0063; 6 standard errors.
    expect(Math.abs(mean)).toBeLessThan(6 * Math.sqrt(expected / samples.length));
    expect(Math.abs(variance / expected - 1)).toBeLessThan(0.05);
  });

  it('gives 95 % intervals that cover the true value at least 95 % of the time', () => {
    const h = noiseHalfWidth(0.3, 1);
    // The half-width is the smallest with P(|X| <= h) >= 0.95.
    let inside = 0;
    let insideSmaller = 0;
    for (let k = -h; k <= h; k++) inside += discreteLaplacePmf(k, 0.3, 1);
    for (let k = -h + 1; k <= h - 1; k++) insideSmaller += discreteLaplacePmf(k, 0.3, 1);
    expect(inside).toBeGreaterThanOrEqual(0.95);
    expect(insideSmaller).toBeLessThan(0.95);
    const covered = Array.from({ length: 20_000 }, () => noisy(100, 0.3, 1)).filter(
      (v) => v.ci95[0] <= 100 && 100 <= v.ci95[1],
    ).length;
    // Binomial(20000, >=0.95): 6 standard deviations below 0.95 is 0.941.
    expect(covered / 20_000).toBeGreaterThan(0.941);
  });

  it('rejects a non-positive epsilon', () => {
    expect(() => discreteLaplace(0, 1)).toThrow(RangeError);
  });
});
