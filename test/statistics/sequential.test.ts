/**
 * Simulation checks of the experiment statistics (issue 8): A/A experiments looked at after every batch keep
 * the false-positive rate at α under the default sequential test (while naive peeking at a fixed-horizon test
 * does not), planted effects are found with the power the design promises, CUPED shrinks variance without
 * bias, and sample-ratio mismatch is flagged when planted. Every run uses a seeded generator.
 */
import { describe, expect, it } from 'vitest';
import {
  compareArms,
  holmAdjust,
  normalCdf,
  sampleRatioMismatch,
  sampleSizePerArm,
  type ArmStats,
  type CompareOptions,
} from '../../src/modules/marketing/statistics.ts';
import { createRng, type Rng } from './prng.ts';

const ALPHA = 0.05;

type ConversionSim = {
  experiments: number;
  batches: number;
  perBatch: number;
  pControl: number;
  pTreatment: number;
  options: CompareOptions;
};

/** Share of experiments whose test rejected at some look (the running minimum of the p-value ≤ α). */
function rejectionRate(rng: Rng, sim: ConversionSim): number {
  let rejected = 0;
  for (let e = 0; e < sim.experiments; e++) {
    const c: ArmStats = { n: 0, sumY: 0, sumY2: 0 };
    const t: ArmStats = { n: 0, sumY: 0, sumY2: 0 };
    for (let b = 0; b < sim.batches; b++) {
      const kc = rng.binomial(sim.perBatch, sim.pControl);
      const kt = rng.binomial(sim.perBatch, sim.pTreatment);
      c.n += sim.perBatch;
      c.sumY += kc;
      c.sumY2 += kc;
      t.n += sim.perBatch;
      t.sumY += kt;
      t.sumY2 += kt;
      if (compareArms(c, t, sim.options).pValue <= ALPHA) {
        rejected++;
        break;
      }
    }
  }
  return rejected / sim.experiments;
}

describe('sequential testing', () => {
  it('1,000 A/A experiments checked after every batch keep the false-positive rate ≤ 5%', () => {
    const rate = rejectionRate(createRng(8001), {
      experiments: 1000,
      batches: 20,
      perBatch: 200,
      pControl: 0.1,
      pTreatment: 0.1,
      options: { tau: 0.02 },
    });
    expect(rate).toBeLessThanOrEqual(0.05);
  });

  it('the same peeking with a fixed-horizon test inflates false positives (why sequential is the default)', () => {
    const rate = rejectionRate(createRng(8002), {
      experiments: 1000,
      batches: 20,
      perBatch: 200,
      pControl: 0.1,
      pTreatment: 0.1,
      options: { mode: 'fixed' },
    });
    expect(rate).toBeGreaterThan(0.1);
  });

  it('a planted +2 point lift on a 10% conversion is detected with at least the designed 80% power', () => {
    const design = { sd: Math.sqrt(0.1 * 0.9), mde: 0.02, power: 0.8 };
    const n = sampleSizePerArm(design);
    const batches = 10;
    const rate = rejectionRate(createRng(8003), {
      experiments: 300,
      batches,
      perBatch: Math.ceil(n / batches),
      pControl: 0.1,
      pTreatment: 0.12,
      options: { tau: design.mde },
    });
    // 300 runs: the binomial standard error at 80% is 2.3 points; the design's figure is a lower bound.
    expect(rate).toBeGreaterThanOrEqual(0.8 - 0.05);
  });

  it('the fixed-horizon design delivers its power when analysed once at the planned size', () => {
    const design = { sd: Math.sqrt(0.1 * 0.9), mde: 0.02, power: 0.8, mode: 'fixed' as const };
    const n = sampleSizePerArm(design);
    const rate = rejectionRate(createRng(8004), {
      experiments: 400,
      batches: 1,
      perBatch: n,
      pControl: 0.1,
      pTreatment: 0.12,
      options: { mode: 'fixed' },
    });
    expect(rate).toBeGreaterThan(0.8 - 0.06);
    expect(rate).toBeLessThan(0.8 + 0.06);
  });

  it('means: A/A on a continuous metric with CUPED stays ≤ 5% and CUPED removes the explained variance', () => {
    const rng = createRng(8005);
    let rejected = 0;
    let reduction = 0;
    const experiments = 1000;
    for (let e = 0; e < experiments; e++) {
      const arms = [0, 1].map(() => ({ n: 0, sumY: 0, sumY2: 0, sumX: 0, sumX2: 0, sumXY: 0 }));
      let hit = false;
      let last = 0;
      for (let b = 0; b < 10 && !hit; b++) {
        for (const a of arms) {
          for (let i = 0; i < 40; i++) {
            const x = 50 + 10 * rng.normal();
            const y = 0.8 * x + 6 * rng.normal();
            a.n++;
            a.sumY += y;
            a.sumY2 += y * y;
            a.sumX += x;
            a.sumX2 += x * x;
            a.sumXY += x * y;
          }
        }
        const r = compareArms(arms[0]!, arms[1]!, { tau: 1 });
        last = r.varianceReduction;
        if (r.pValue <= ALPHA) hit = true;
      }
      if (hit) rejected++;
      reduction += last;
    }
    expect(rejected / experiments).toBeLessThanOrEqual(0.05);
    // var(y) = 0.64·100 + 36 = 100, of which 64 is explained by x.
    expect(reduction / experiments).toBeGreaterThan(0.55);
    expect(reduction / experiments).toBeLessThan(0.72);
  });
});

describe('sample-ratio mismatch', () => {
  it('is flagged when a 50/50 experiment receives 52/48', () => {
    const rng = createRng(8006);
    let flagged = 0;
    for (let e = 0; e < 200; e++) {
      const a = rng.binomial(20000, 0.52);
      if (sampleRatioMismatch([a, 20000 - a], [1, 1]).mismatch) flagged++;
    }
    expect(flagged / 200).toBeGreaterThan(0.95);
  });

  it('is rarely raised when the split is healthy (threshold 0.001)', () => {
    const rng = createRng(8007);
    let flagged = 0;
    for (let e = 0; e < 1000; e++) {
      const a = rng.binomial(20000, 0.5);
      if (sampleRatioMismatch([a, 20000 - a], [1, 1]).mismatch) flagged++;
    }
    expect(flagged).toBeLessThanOrEqual(5);
  });

  it('respects unequal designed weights', () => {
    expect(sampleRatioMismatch([9000, 1000], [9, 1]).mismatch).toBe(false);
    expect(sampleRatioMismatch([5000, 5000], [9, 1]).mismatch).toBe(true);
  });
});

describe('Holm correction', () => {
  it('keeps the family-wise error ≤ 5% over 5 null metrics where uncorrected testing does not', () => {
    const rng = createRng(8008);
    let holm = 0;
    let raw = 0;
    for (let e = 0; e < 1000; e++) {
      const ps = Array.from({ length: 5 }, () => {
        const z = rng.normal();
        return 2 * (1 - normalCdf(Math.abs(z)));
      });
      if (ps.some((p) => p <= ALPHA)) raw++;
      if (holmAdjust(ps).some((p) => p <= ALPHA)) holm++;
    }
    expect(raw / 1000).toBeGreaterThan(0.15);
    expect(holm / 1000).toBeLessThanOrEqual(0.06);
  });
});
