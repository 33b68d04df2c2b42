/**
 * Discrete (two-sided geometric, "discrete Laplace") noise for differentially private counts and sums.
 *
 * For privacy parameter ε and L1 sensitivity Δ, noise X has P(X = k) = (1-α)/(1+α) · α^|k| with
 * α = exp(-ε/Δ): releasing value + X is ε-differentially private for integer values whose sensitivity
 * is Δ. X is drawn as the difference of two geometric variables, each from uniforms taken from the
 * operating system's CSPRNG (node:crypto), never from Math.random.
 */
import { randomInt } from 'node:crypto';

/** randomInt's largest allowed range. */
const RANGE = 2 ** 48 - 1;

/** Uniform in (0, 1] from the CSPRNG, 48 bits (never 0, so its logarithm is finite). */
export function secureUniform(): number {
  return (randomInt(0, RANGE) + 1) / RANGE;
}

export function alphaOf(epsilon: number, sensitivity: number): number {
  if (!(epsilon > 0) || !(sensitivity > 0)) throw new RangeError('epsilon and sensitivity must be positive');
  return Math.exp(-epsilon / sensitivity);
}

/** Failures before the first success with success probability 1-α. */
function geometric(alpha: number, uniform: () => number): number {
  return Math.floor(Math.log(uniform()) / Math.log(alpha));
}

/** One draw of two-sided geometric noise for (ε, Δ). */
export function discreteLaplace(
  epsilon: number,
  sensitivity: number,
  uniform: () => number = secureUniform,
): number {
  const alpha = alphaOf(epsilon, sensitivity);
  return geometric(alpha, uniform) - geometric(alpha, uniform);
}

/** P(X = k) for the noise of (ε, Δ). */
export function discreteLaplacePmf(k: number, epsilon: number, sensitivity: number): number {
  const alpha = alphaOf(epsilon, sensitivity);
  return ((1 - alpha) / (1 + alpha)) * alpha ** Math.abs(k);
}

export function discreteLaplaceVariance(epsilon: number, sensitivity: number): number {
  const alpha = alphaOf(epsilon, sensitivity);
  return (2 * alpha) / (1 - alpha) ** 2;
}

/**
 * The smallest t with P(|X| ≤ t) ≥ level: value ± t is a `level` confidence interval for the true value.
 * P(|X| > t) = 2α^(t+1)/(1+α).
 */
export function noiseHalfWidth(epsilon: number, sensitivity: number, level = 0.95): number {
  const alpha = alphaOf(epsilon, sensitivity);
  const t = Math.ceil(Math.log(((1 - level) * (1 + alpha)) / 2) / Math.log(alpha) - 1);
  return Math.max(0, t);
}

/** For a sum of `terms` independent noises: a normal-approximation half-width, rounded up. */
export function summedNoiseHalfWidth(
  epsilon: number,
  sensitivity: number,
  terms: number,
  level = 0.95,
): number {
  if (terms <= 1) return noiseHalfWidth(epsilon, sensitivity, level);
  const z = level >= 0.99 ? 2.5758 : level >= 0.95 ? 1.96 : 1.6449;
  return Math.ceil(z * Math.sqrt(terms * discreteLaplaceVariance(epsilon, sensitivity)));
}

export type NoisyValue = {
  /** The released value (true value + noise); may be negative for small counts. */
  value: number;
  /** Privacy cost of this value. */
  epsilon: number;
  /** 95 % confidence interval for the true value. */
  ci95: [number, number];
};

export function noisy(trueValue: number, epsilon: number, sensitivity: number): NoisyValue {
  const value = Math.round(trueValue) + discreteLaplace(epsilon, sensitivity);
  const h = noiseHalfWidth(epsilon, sensitivity);
  return { value, epsilon, ci95: [value - h, value + h] };
}
