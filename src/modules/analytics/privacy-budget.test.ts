import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { hasCode } from '../../kernel/errors.ts';
import { openSqliteStateStore } from '../../storage/index.ts';
import type { StateStore } from '../../storage/ports.ts';
import { makeTempDir, type TempDir } from '../../storage/testing.ts';
import { createPrivacyBudget } from './privacy-budget.ts';
import { analyticsMigrations } from './store.ts';

describe('privacy budget ledger', () => {
  let dir: TempDir;
  let state: StateStore;
  const clock = fixedClock('2025-03-01T00:00:00Z');

  beforeEach(async () => {
    dir = makeTempDir('candor-budget');
    state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
    await state.migrate(analyticsMigrations);
  });
  afterEach(async () => {
    await state.close();
    dir.cleanup();
  });

  it('spends ε per answer, answers repeats from the ledger for free, and refuses when spent', async () => {
    const budget = createPrivacyBudget({ state, clock }, { epsilonBudget: 1, periodDays: 30 });
    let computed = 0;
    const compute = async () => ({ n: ++computed });

    const a = await budget.release('overview', { q: 1 }, 0.4, 'staff:1', compute);
    expect(a).toMatchObject({
      answer: { n: 1 },
      cached: false,
      epsilonSpent: 0.4,
      budget: { spent: 0.4, remaining: 0.6 },
    });

    const again = await budget.release('overview', { q: 1 }, 0.4, 'staff:2', compute);
    expect(again).toMatchObject({ answer: { n: 1 }, cached: true, epsilonSpent: 0 });
    expect(computed).toBe(1);
    expect((await budget.status()).spent).toBe(0.4);

    await budget.release('overview', { q: 2 }, 0.4, 'staff:1', compute);
    expect((await budget.status()).spent).toBe(0.8);

    const refused = await budget
      .release('funnel', { q: 3 }, 0.4, 'staff:1', compute)
      .catch((e: unknown) => e);
    expect(hasCode(refused, 'privacy_budget_exhausted')).toBe(true);
    expect(computed).toBe(2);
    expect(await budget.status()).toEqual({ epsilonBudget: 1, spent: 0.8, remaining: 0.2, periodDays: 30 });

    // What fits is still answered; a cached question stays free even with no budget left.
    await budget.release('funnel', { q: 4 }, 0.2, 'staff:1', compute);
    expect((await budget.status()).remaining).toBe(0);
    expect((await budget.release('overview', { q: 2 }, 0.4, 'staff:1', compute)).cached).toBe(true);

    // Spending older than the period no longer counts.
    clock.advance(31 * 86_400_000);
    expect((await budget.release('funnel', { q: 3 }, 0.4, 'staff:1', compute)).cached).toBe(false);
  });

  it('never overspends under concurrent requests', async () => {
    const budget = createPrivacyBudget({ state, clock }, { epsilonBudget: 1, periodDays: 30 });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        budget.release('overview', { q: i }, 0.3, 'staff:1', async () => ({ i })),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect((await budget.status()).spent).toBeCloseTo(0.9, 9);
  });
});
