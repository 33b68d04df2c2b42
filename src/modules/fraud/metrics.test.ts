import { describe, expect, it } from 'vitest';
import { metricSet, prAuc, recallAtFpr, rocAuc, type Labelled } from './metrics.ts';
import { predict, priorModel, trainLogistic } from './model.ts';

const rows = (pairs: [number, 0 | 1][]): Labelled[] => pairs.map(([score, label]) => ({ score, label }));

describe('evaluation metrics (hand-computed)', () => {
  // Scores 0.9(+) 0.8(−) 0.7(+) 0.6(−) 0.5(−) 0.4(+): positives outrank 3+2+0 = 5 of 9 pairs.
  const r = rows([
    [0.9, 1],
    [0.8, 0],
    [0.7, 1],
    [0.6, 0],
    [0.5, 0],
    [0.4, 1],
  ]);

  it('ROC-AUC counts ordered positive/negative pairs', () => {
    expect(rocAuc(r)).toBeCloseTo(5 / 9, 10);
    expect(
      rocAuc(
        rows([
          [1, 1],
          [0, 0],
        ]),
      ),
    ).toBe(1);
    expect(
      rocAuc(
        rows([
          [0, 1],
          [1, 0],
        ]),
      ),
    ).toBe(0);
    // A tie counts one half.
    expect(
      rocAuc(
        rows([
          [0.5, 1],
          [0.5, 0],
        ]),
      ),
    ).toBe(0.5);
    expect(rocAuc(rows([[1, 1]]))).toBeNaN();
  });

  it('PR-AUC is average precision over thresholds', () => {
    // Positives at ranks 1, 3, 6: (1/1 + 2/3 + 3/6) / 3.
    expect(prAuc(r)).toBeCloseTo((1 + 2 / 3 + 0.5) / 3, 10);
    // Tied scores form one threshold: precision 1/2 at recall 1.
    expect(
      prAuc(
        rows([
          [0.5, 1],
          [0.5, 0],
        ]),
      ),
    ).toBe(0.5);
  });

  it('recall at a false-positive budget', () => {
    // 3 negatives: FPR 0 lets only the top positive through; FPR 1/3 adds the second.
    expect(recallAtFpr(r, 0)).toBeCloseTo(1 / 3, 10);
    expect(recallAtFpr(r, 0.34)).toBeCloseTo(2 / 3, 10);
    expect(recallAtFpr(r, 1)).toBe(1);
    const m = metricSet(r);
    expect(m.recallAt1pctFpr).toBe(0.3333);
    expect(m.rocAuc).toBe(0.5556);
  });
});

describe('logistic model', () => {
  it('learns which feature separates the labels and explains scores by it', () => {
    const data = Array.from({ length: 200 }, (_, i) => ({
      values: { card_testing: i % 4 === 0, velocity_ip_1h: i % 7 },
      label: i % 4 === 0 ? (1 as const) : (0 as const),
    }));
    const model = trainLogistic(data);
    const fraud = predict(model, { card_testing: true, velocity_ip_1h: 3 });
    const legit = predict(model, { card_testing: false, velocity_ip_1h: 3 });
    expect(fraud.probability).toBeGreaterThan(0.9);
    expect(legit.probability).toBeLessThan(0.1);
    expect(fraud.contributions[0]!.feature).toBe('card_testing');
    expect(model.positives).toBe(50);
  });

  it('the prior model scores a quiet order low and card testing high', () => {
    const m = priorModel();
    expect(predict(m, {}).probability).toBeLessThan(0.05);
    expect(
      predict(m, { card_testing: true, declines_in_row: 4, auth_declined: true }).probability,
    ).toBeGreaterThan(0.5);
  });
});
