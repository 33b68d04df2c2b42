/**
 * Experiment statistics, pure functions over sufficient statistics so they run on stored aggregates and in
 * vectorised simulations alike.
 *
 * Default inference is always valid: the mixture sequential probability ratio test (mSPRT, Johari et al.
 * 2017/2022) with a normal mixing distribution over the effect. Its p-value may be checked after every
 * batch; the running minimum keeps the false-positive rate at α however often anyone looks. A classic
 * fixed-horizon z-test is available for experiments analysed once, at their planned size.
 */

/** Per-arm sufficient statistics of one metric (y) and, optionally, its pre-period covariate (x). */
export type ArmStats = {
  n: number;
  sumY: number;
  sumY2: number;
  sumX?: number;
  sumX2?: number;
  sumXY?: number;
};

export type Comparison = {
  /** Treatment mean minus control mean (CUPED-adjusted when a covariate was supplied). */
  effect: number;
  /** effect / control mean, or null when the control mean is 0. */
  relativeEffect: number | null;
  /** Variance of `effect`. */
  variance: number;
  /** p-value: always-valid (instantaneous mSPRT) or fixed-horizon two-sided z-test. */
  pValue: number;
  /** Confidence sequence (sequential) or confidence interval (fixed horizon) for `effect` at level 1 − α. */
  interval: [number, number];
  controlMean: number;
  treatmentMean: number;
  /** Share of variance removed by CUPED (0 without a covariate). */
  varianceReduction: number;
};

// ---------------------------------------------------------------------------------------------------
// Distributions

/** erf with |error| < 1.2e-7 (Numerical Recipes erfc). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Inverse standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

function logGamma(x: number): number {
  // Lanczos coefficients (Numerical Recipes gammln), to the precision a double holds.
  const g = [
    76.180091729471, -86.505320329417, 24.014098240831, -1.2317395724502, 0.0012086509738662,
    -0.000005395239384953,
  ];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.00000000019;
  for (const gi of g) ser += gi / ++y;
  return -tmp + Math.log((2.506628274631 * ser) / x);
}

/** Regularised upper incomplete gamma Q(a, x). */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  if (x < a + 1) {
    let sum = 1 / a;
    let del = sum;
    let ap = a;
    for (let i = 0; i < 500; i++) {
      del *= x / ++ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-14) break;
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
  }
  let b = x + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-14) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

/** Upper tail of the chi-square distribution. */
export function chiSquareSf(x: number, df: number): number {
  return gammaQ(df / 2, x / 2);
}

// ---------------------------------------------------------------------------------------------------
// Estimation

function mean(s: ArmStats): number {
  return s.n > 0 ? s.sumY / s.n : 0;
}

/** Sample variance of y in one arm (0 with fewer than 2 observations). */
function varY(s: ArmStats): number {
  if (s.n < 2) return 0;
  return Math.max(0, (s.sumY2 - (s.sumY * s.sumY) / s.n) / (s.n - 1));
}

function hasCovariate(s: ArmStats): s is Required<ArmStats> {
  return s.sumX !== undefined && s.sumX2 !== undefined && s.sumXY !== undefined;
}

type Adjusted = { mean: number; variance: number; rawVariance: number };

/**
 * CUPED (Deng et al. 2013): y − θ(x − x̄) with θ = cov(x, y) / var(x) pooled over both arms, which removes the
 * share of variance the pre-period explains without biasing the difference (x is independent of assignment).
 */
function cuped(control: ArmStats, treatment: ArmStats): [Adjusted, Adjusted] {
  const raw = (s: ArmStats): Adjusted => ({ mean: mean(s), variance: varY(s), rawVariance: varY(s) });
  if (!hasCovariate(control) || !hasCovariate(treatment)) return [raw(control), raw(treatment)];
  const n = control.n + treatment.n;
  if (n < 3) return [raw(control), raw(treatment)];
  const sx = control.sumX + treatment.sumX;
  const sy = control.sumY + treatment.sumY;
  const sxx = control.sumX2 + treatment.sumX2;
  const sxy = control.sumXY + treatment.sumXY;
  const varX = (sxx - (sx * sx) / n) / (n - 1);
  if (!(varX > 0)) return [raw(control), raw(treatment)];
  const theta = (sxy - (sx * sy) / n) / (n - 1) / varX;
  const xBar = sx / n;
  const adjust = (s: Required<ArmStats>): Adjusted => {
    if (s.n < 2) return raw(s);
    const vx = Math.max(0, (s.sumX2 - (s.sumX * s.sumX) / s.n) / (s.n - 1));
    const cxy = (s.sumXY - (s.sumX * s.sumY) / s.n) / (s.n - 1);
    const vy = varY(s);
    return {
      mean: mean(s) - theta * (s.sumX / s.n - xBar),
      variance: Math.max(0, vy - 2 * theta * cxy + theta * theta * vx),
      rawVariance: vy,
    };
  };
  return [adjust(control), adjust(treatment)];
}

export type CompareOptions = {
  /** 'sequential' (default, always valid) or 'fixed' (one look at the planned size). */
  mode?: 'sequential' | 'fixed';
  alpha?: number;
  /**
   * Standard deviation of the normal mixing distribution over the absolute effect (mSPRT). Put it near the
   * smallest effect worth detecting: power is best for effects of that size.
   */
  tau?: number;
};

/** The mSPRT likelihood ratio Λ for an observed difference `d` with variance `v` under mixing variance τ². */
export function msprtLikelihoodRatio(d: number, v: number, tau2: number): number {
  if (!(v > 0)) return 1;
  return Math.sqrt(v / (v + tau2)) * Math.exp((tau2 * d * d) / (2 * v * (v + tau2)));
}

/** Half-width of the mSPRT confidence sequence at variance v (level 1 − α). */
export function msprtHalfWidth(v: number, tau2: number, alpha: number): number {
  if (!(v > 0)) return 0;
  return Math.sqrt(((v * (v + tau2)) / tau2) * (Math.log((v + tau2) / v) + 2 * Math.log(1 / alpha)));
}

/** Treatment versus control for one metric. */
export function compareArms(
  control: ArmStats,
  treatment: ArmStats,
  options: CompareOptions = {},
): Comparison {
  const alpha = options.alpha ?? 0.05;
  const [c, t] = cuped(control, treatment);
  const effect = t.mean - c.mean;
  const variance =
    (control.n > 0 ? c.variance / control.n : 0) + (treatment.n > 0 ? t.variance / treatment.n : 0);
  const rawVariance =
    (control.n > 0 ? c.rawVariance / control.n : 0) + (treatment.n > 0 ? t.rawVariance / treatment.n : 0);
  let pValue: number;
  let interval: [number, number];
  if (!(variance > 0) || control.n < 2 || treatment.n < 2) {
    pValue = 1;
    interval = [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  } else if (options.mode === 'fixed') {
    const z = effect / Math.sqrt(variance);
    pValue = Math.min(1, 2 * (1 - normalCdf(Math.abs(z))));
    const h = normalQuantile(1 - alpha / 2) * Math.sqrt(variance);
    interval = [effect - h, effect + h];
  } else {
    const tau = options.tau ?? Math.max(Math.abs(c.mean) * 0.05, 1e-9);
    const tau2 = tau * tau;
    pValue = Math.min(1, 1 / msprtLikelihoodRatio(effect, variance, tau2));
    const h = msprtHalfWidth(variance, tau2, alpha);
    interval = [effect - h, effect + h];
  }
  return {
    effect,
    relativeEffect: c.mean !== 0 ? effect / c.mean : null,
    variance,
    pValue,
    interval,
    controlMean: c.mean,
    treatmentMean: t.mean,
    varianceReduction: rawVariance > 0 ? Math.max(0, 1 - variance / rawVariance) : 0,
  };
}

// ---------------------------------------------------------------------------------------------------
// Multiple comparisons, SRM, winsorising, design

/** Holm–Bonferroni step-down adjusted p-values (same order as the input). */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(m).fill(1);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}

export type SrmResult = { chiSquare: number; pValue: number; mismatch: boolean };

/**
 * Sample-ratio mismatch: a chi-square goodness-of-fit test of the observed arm sizes against the designed
 * weights. A tiny p-value (default < 0.001) means assignment or logging is broken and no result can be trusted.
 */
export function sampleRatioMismatch(
  counts: readonly number[],
  weights: readonly number[],
  threshold = 0.001,
): SrmResult {
  const total = counts.reduce((a, b) => a + b, 0);
  const wsum = weights.reduce((a, b) => a + b, 0);
  if (total === 0 || counts.length < 2 || wsum <= 0) return { chiSquare: 0, pValue: 1, mismatch: false };
  let chi = 0;
  counts.forEach((o, i) => {
    const e = (total * (weights[i] ?? 0)) / wsum;
    if (e > 0) chi += ((o - e) * (o - e)) / e;
  });
  const pValue = chiSquareSf(chi, counts.length - 1);
  return { chiSquare: chi, pValue, mismatch: pValue < threshold };
}

/** Caps values at the q-quantile (default 0.99) so a few huge orders cannot dominate a revenue metric. */
export function winsorise(values: readonly number[], q = 0.99): { values: number[]; cap: number } {
  if (values.length === 0) return { values: [], cap: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const cap = sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))]!;
  return { values: values.map((v) => Math.min(v, cap)), cap };
}

export type DesignInput = {
  /** Per-observation standard deviation of the metric (√(p(1−p)) for a conversion rate p). */
  sd: number;
  /** The smallest absolute effect worth detecting. */
  mde: number;
  alpha?: number;
  power?: number;
  mode?: 'sequential' | 'fixed';
};

/**
 * Power of one final look with n per arm. For the sequential test it is the probability that Λ ≥ 1/α at n,
 * a lower bound on the real power (earlier looks only add chances to stop).
 */
export function powerAt(n: number, input: DesignInput): number {
  const alpha = input.alpha ?? 0.05;
  const v = (2 * input.sd * input.sd) / n;
  const shift = input.mde / Math.sqrt(v);
  let crit: number;
  if (input.mode === 'fixed') crit = normalQuantile(1 - alpha / 2);
  else {
    const tau2 = input.mde * input.mde;
    const c2 = ((2 * v * (v + tau2)) / tau2) * (Math.log(1 / alpha) + 0.5 * Math.log((v + tau2) / v));
    crit = Math.sqrt(c2 / v);
  }
  return 1 - normalCdf(crit - shift) + normalCdf(-crit - shift);
}

/** Smallest n per arm whose power reaches the target (default 80%). */
export function sampleSizePerArm(input: DesignInput): number {
  const target = input.power ?? 0.8;
  let lo = 2;
  let hi = 4;
  while (powerAt(hi, input) < target) {
    hi *= 2;
    if (hi > 1e12) return Number.POSITIVE_INFINITY;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (powerAt(mid, input) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}
