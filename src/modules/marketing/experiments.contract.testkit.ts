/**
 * Experiment behaviour every state store must show (SQLite here, PostgreSQL in the server suite), through
 * the HTTP API: deterministic sticky assignment, exposures stored once (also under parallel requests),
 * mutually exclusive layers with traffic shares, results with Holm, winsorising and the SRM alarm, erasure.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALL_PERMS, type MarketingHarness } from './marketing.testkit.ts';

export function experimentsContract(name: string, open: () => Promise<MarketingHarness>): void {
  describe(`experiments over HTTP (${name})`, () => {
    let h: MarketingHarness;
    beforeEach(async () => {
      h = await open();
    });
    afterEach(async () => {
      await h.close();
    });

    const create = (body: Record<string, unknown>) =>
      h.request('/v1/experiments', { body, perms: ALL_PERMS });
    const start = (key: string) =>
      h.request(`/v1/experiments/${key}/start`, { method: 'POST', perms: ALL_PERMS });
    const assign = async (key: string, userId: string) =>
      (await (await h.request(`/v1/experiments/${key}/assign`, { body: { userId } })).json()) as {
        variant: string | null;
        reason: string;
      };
    const base = {
      variants: [
        { key: 'control', weight: 1 },
        { key: 'treatment', weight: 1 },
      ],
      metrics: [{ key: 'purchase', kind: 'conversion', role: 'primary', mde: 0.05 }],
    };

    it('assigns deterministically and stickily, without a cookie, and only while running', async () => {
      expect((await create({ key: 'btn', name: 'Button colour', ...base })).status).toBe(201);
      expect((await assign('btn', 'u1')).reason).toBe('not_running');
      await start('btn');
      const first = await Promise.all(Array.from({ length: 200 }, (_, i) => assign('btn', `u${i}`)));
      const again = await Promise.all(Array.from({ length: 200 }, (_, i) => assign('btn', `u${i}`)));
      expect(again.map((a) => a.variant)).toEqual(first.map((a) => a.variant));
      const treated = first.filter((a) => a.variant === 'treatment').length;
      expect(treated).toBeGreaterThan(70);
      expect(treated).toBeLessThan(130);
    });

    it('stores one exposure per subject under parallel first requests, and erasure removes it', async () => {
      await create({ key: 'par', name: 'Parallel', ...base });
      await start('par');
      const answers = await Promise.all(Array.from({ length: 10 }, () => assign('par', 'same-shopper')));
      expect(new Set(answers.map((a) => a.variant)).size).toBe(1);
      const subject = h.subjectOfUser('same-shopper');
      await h.request('/v1/experiments/par/outcomes', {
        perms: ALL_PERMS,
        body: { userId: 'same-shopper', metric: 'purchase', value: 1 },
      });
      const exported = await h.marketing.holder.export({ subjectIds: [subject] });
      expect(exported.tables.mkt_exposures).toHaveLength(1);
      expect(exported.tables.mkt_outcomes).toHaveLength(1);
      await h.marketing.holder.erase({ subjectIds: [subject] });
      const after = await h.marketing.holder.export({ subjectIds: [subject] });
      expect(after.tables.mkt_exposures ?? []).toHaveLength(0);
      expect(after.tables.mkt_outcomes ?? []).toHaveLength(0);
    });

    it('keeps experiments in one layer mutually exclusive and honours traffic shares', async () => {
      await create({ key: 'a', name: 'A', layer: 'checkout', traffic: 0.3, ...base });
      await create({ key: 'b', name: 'B', layer: 'checkout', traffic: 0.5, ...base });
      const full = await create({ key: 'c', name: 'C', layer: 'checkout', traffic: 0.5, ...base });
      expect(full.status).toBe(409);
      await start('a');
      await start('b');
      let inA = 0;
      let inB = 0;
      for (let i = 0; i < 1000; i++) {
        const [x, y] = [await assign('a', `s${i}`), await assign('b', `s${i}`)];
        expect(x.variant !== null && y.variant !== null).toBe(false);
        if (x.variant) inA++;
        if (y.variant) inB++;
      }
      expect(inA).toBeGreaterThan(240);
      expect(inA).toBeLessThan(360);
      expect(inB).toBeGreaterThan(440);
      expect(inB).toBeLessThan(560);
    });

    it('reports a planted lift as significant with Holm-adjusted p-values, and no SRM on a fair split', async () => {
      await create({
        key: 'promo',
        name: 'Promo banner',
        ...base,
        metrics: [
          { key: 'purchase', kind: 'conversion', role: 'primary', mde: 0.1 },
          { key: 'revenue', kind: 'revenue', role: 'secondary', mde: 5 },
          { key: 'refunds', kind: 'conversion', role: 'guardrail', mde: 0.05, harmful: 'increase' },
        ],
      });
      await start('promo');
      for (let i = 0; i < 600; i++) {
        const a = await assign('promo', `p${i}`);
        // Deterministic outcomes: 10% conversion in control, 40% in treatment.
        const converts = a.variant === 'treatment' ? i % 5 < 2 : i % 10 === 0;
        if (converts) {
          await h.request('/v1/experiments/promo/outcomes', {
            perms: ALL_PERMS,
            body: { userId: `p${i}`, metric: 'purchase', value: 1 },
          });
          await h.request('/v1/experiments/promo/outcomes', {
            perms: ALL_PERMS,
            body: { userId: `p${i}`, metric: 'revenue', value: i === 7 ? 1e6 : 30 },
          });
        }
      }
      const notExposed = await h.request('/v1/experiments/promo/outcomes', {
        perms: ALL_PERMS,
        body: { userId: 'nobody', metric: 'purchase', value: 1 },
      });
      expect(await notExposed.json()).toEqual({ recorded: false, reason: 'not_exposed' });
      const res = (await (await h.request('/v1/experiments/promo/results', { perms: ALL_PERMS })).json()) as {
        srm: { mismatch: boolean };
        metrics: {
          metric: string;
          winsorisedAt: number | null;
          variants: { significant: boolean; adjustedPValue: number; pValue: number; effect: number }[];
        }[];
        guardrailAlarms: unknown[];
      };
      expect(res.srm.mismatch).toBe(false);
      const purchase = res.metrics.find((m) => m.metric === 'purchase')!.variants[0]!;
      expect(purchase.significant).toBe(true);
      expect(purchase.effect).toBeGreaterThan(0.2);
      expect(purchase.adjustedPValue).toBeGreaterThanOrEqual(purchase.pValue);
      // The one 1,000,000 order is capped at the 99th percentile.
      expect(res.metrics.find((m) => m.metric === 'revenue')!.winsorisedAt).toBe(30);
      expect(res.guardrailAlarms).toEqual([]);
    });

    it('flags a sample-ratio mismatch when exposures are lost for one arm', async () => {
      await create({ key: 'srm', name: 'SRM', ...base });
      await start('srm');
      // Simulates broken exposure logging: treatment exposures are only recorded for a third of subjects.
      for (let i = 0; i < 900; i++) {
        const peek = await h.request('/v1/experiments/srm/assign', {
          body: { userId: `q${i}`, expose: false },
        });
        const { variant } = (await peek.json()) as { variant: string };
        if (variant === 'control' || i % 3 === 0) await assign('srm', `q${i}`);
      }
      const res = (await (await h.request('/v1/experiments/srm/results', { perms: ALL_PERMS })).json()) as {
        srm: { mismatch: boolean };
        warnings: string[];
      };
      expect(res.srm.mismatch).toBe(true);
      expect(res.warnings.join(' ')).toMatch(/Sample ratio mismatch/);
    });

    it('answers bad input and missing permissions with 4xx JSON errors', async () => {
      const bad = await create({ key: 'Bad Key', name: 'x', ...base });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
      const one = await create({ key: 'one', name: 'x', ...base, variants: [{ key: 'only', weight: 1 }] });
      expect(one.status).toBe(400);
      const noPerm = await h.request('/v1/experiments', {
        body: { key: 'k', name: 'x', ...base },
        perms: 'marketing:read',
      });
      expect(noPerm.status).toBe(403);
      const missing = await h.request('/v1/experiments/nope/results', { perms: ALL_PERMS });
      expect(missing.status).toBe(404);
      await create({ key: 'who', name: 'x', ...base });
      const anon = await h.request('/v1/experiments/who/assign', { body: {} });
      expect(anon.status).toBe(400);
    });
  });
}
