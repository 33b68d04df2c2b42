/** The churn model on a synthetic shop where loyal customers keep buying and lapsing ones slow down first. */
import { describe, expect, it } from 'vitest';
import { evaluateChurn, rocAuc, prAuc, type ChurnOrder } from '../../src/modules/marketing/index.ts';
import { createRng } from '../statistics/prng.ts';

const DAY = 86_400_000;

function syntheticShop(seed: number): ChurnOrder[] {
  const rng = createRng(seed);
  const orders: ChurnOrder[] = [];
  const start = Date.UTC(2024, 0, 1);
  for (let c = 0; c < 600; c++) {
    // Each customer buys at a personal rate that may decay to nothing at a random point in the year.
    const rate = 0.005 + rng.next() * 0.05;
    const lapse = rng.next() < 0.5 ? start + rng.next() * 365 * DAY : Number.POSITIVE_INFINITY;
    for (let d = 0; d < 365; d++) {
      const ts = start + d * DAY;
      const r = ts < lapse ? rate : rate * 0.05;
      if (rng.next() < r)
        orders.push({
          customerId: `c${c}`,
          ts,
          revenue: Math.round(1000 + rng.next() * 5000),
          kind: 'order',
        });
    }
  }
  return orders;
}

describe('churn evaluation', () => {
  it('ranks churners above stayers on a temporal split and reports both scorers', () => {
    const report = evaluateChurn(syntheticShop(11), 60);
    expect(report.split.train.customers).toBeGreaterThan(200);
    expect(report.results.model.rocAuc).toBeGreaterThan(0.7);
    expect(report.results.rfm_baseline.rocAuc).toBeGreaterThan(0.6);
    expect(report.results.model.calibration.reduce((a, b) => a + b.n, 0)).toBe(report.split.test.customers);
    expect(Date.parse(report.split.train.cutoff)).toBeLessThan(Date.parse(report.split.test.cutoff));
  });

  it('computes ROC-AUC and PR-AUC correctly on known rankings', () => {
    const perfect = [
      { score: 0.9, label: 1 as const },
      { score: 0.8, label: 1 as const },
      { score: 0.2, label: 0 as const },
    ];
    expect(rocAuc(perfect)).toBe(1);
    expect(prAuc(perfect)).toBe(1);
    const inverted = perfect.map((r) => ({ ...r, score: 1 - r.score }));
    expect(rocAuc(inverted)).toBe(0);
  });
});
