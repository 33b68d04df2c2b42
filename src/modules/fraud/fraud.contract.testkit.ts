/**
 * The fraud module's behaviour over HTTP, run on SQLite (fraud.routes.test.ts) and PostgreSQL
 * (fraud.server.test.ts): validation, card-number rejection, scoring with reasons, the review queue, rules with
 * versions and dry-run, outcomes and training, shopper reports, and export/erasure of the personal data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PERMS, type FraudHarness } from './fraud.testkit.ts';

type Json = Record<string, unknown> & { error?: { code: string; message: string; requestId: string } };

export function fraudContract(name: string, open: () => Promise<FraudHarness>): void {
  describe(`fraud module (${name})`, () => {
    let h: FraudHarness;
    const score = async (body: unknown, perms = ALL_PERMS) => {
      const res = await h.request('/v1/fraud/score', { body, perms });
      return { status: res.status, body: (await res.json()) as Json };
    };
    const base = (over: Record<string, unknown> = {}) => ({
      orderId: `o-${Math.random().toString(36).slice(2)}`,
      amount: 25_000,
      currency: 'IDR',
      items: [{ productId: 'shirt', quantity: 1, unitPrice: 25_000 }],
      customer: { id: 'cust-1', email: 'ana@gmail.com', accountCreatedAt: '2023-01-01T00:00:00Z' },
      deviceId: 'device-1',
      ip: '10.0.0.1',
      ipCountry: 'ID',
      billingAddress: { country: 'ID' },
      shippingAddress: { line1: 'Jalan Mawar 1', postalCode: '12345', country: 'ID' },
      payment: {
        fingerprint: 'fp-ana',
        bin: '411111',
        last4: '1111',
        binCountry: 'ID',
        threeDs: 'authenticated',
      },
      ...over,
    });

    beforeAll(async () => {
      h = await open();
      const res = await h.request('/v1/catalog/products', {
        method: 'PUT',
        perms: ALL_PERMS,
        body: {
          products: [
            {
              id: 'shirt',
              title: { en: 'Shirt' },
              categoryPath: ['fashion'],
              price: 25_000,
              currency: 'IDR',
              stock: 10,
              attributes: {},
              active: true,
            },
            {
              id: 'phone',
              title: { en: 'Phone' },
              categoryPath: ['electronics'],
              price: 900_000,
              currency: 'IDR',
              stock: 10,
              attributes: {},
              active: true,
            },
          ],
        },
      });
      expect(res.status).toBe(200);
    });
    afterAll(async () => h?.close());

    it('needs the fraud:score permission', async () => {
      expect((await h.request('/v1/fraud/score', { body: base() })).status).toBe(401);
      const denied = await score(base(), 'fraud:review');
      expect(denied.status).toBe(403);
      expect(denied.body.error?.code).toBe('forbidden');
    });

    it('answers bad input with a 400 that says what is wrong', async () => {
      const missing = await score({ orderId: 'x' });
      expect(missing.status).toBe(400);
      expect(missing.body.error?.code).toBe('invalid_request');
      expect(missing.body.error?.message).toMatch(/amount/);
      expect(missing.body.error?.requestId).toBeTruthy();
      const badCountry = await score(base({ ipCountry: 'Indonesia' }));
      expect(badCountry.body.error?.message).toMatch(/ISO 3166-1/);
      const unknownField = await score(base({ cardHolder: 'x' }));
      expect(unknownField.status).toBe(400);
      const res = await h.request('/v1/fraud/score', { raw: '{"orderId":', perms: ALL_PERMS });
      expect(res.status).toBe(400);
      expect(((await res.json()) as Json).error?.code).toBe('invalid_json');
    });

    it('refuses any request holding a full card number, wherever it is', async () => {
      for (const body of [
        base({ orderId: '4111 1111 1111 1111' }),
        base({ cardNumber: '4242424242424242' }),
        base({ customer: { id: 'c', email: '5555555555554444@x.test' } }),
        base({ items: [{ productId: 'shirt', quantity: 1, unitPrice: 4_111_111_111_111_111 }] }),
      ]) {
        const r = await score(body);
        expect(r.status).toBe(400);
        expect(r.body.error?.code).toBe('card_number_present');
        expect(r.body.error?.message).toMatch(/Never send card numbers/);
        expect(JSON.stringify(r.body)).not.toMatch(/4111|4242424242424242|5555555555554444/);
      }
      // Not Luhn-valid, or too long to be a card: an ordinary id.
      expect((await score(base({ orderId: '4111111111111112' }))).status).toBe(200);
      expect((await score(base({ orderId: '41111111111111111111111' }))).status).toBe(200);
    });

    it('approves an ordinary order with a low score and says why', async () => {
      const r = await score(base({ orderId: 'calm-1' }));
      expect(r.status).toBe(200);
      expect(r.body.decision).toBe('approve');
      expect(r.body.score).toBeLessThan(30);
      expect(r.body.caseId).toBeNull();
      expect(r.body.modelVersion).toBe('prior');
      expect(r.body.rulesVersion).toBe(0);
      expect((r.body.reasons as unknown[]).length).toBeGreaterThan(0);
    });

    it('declines a card-testing burst and puts it before a reviewer', async () => {
      let last: Json = {};
      for (let i = 0; i < 4; i++) {
        h.clock.advance(20_000);
        const r = await score(
          base({
            orderId: `burst-${i}`,
            amount: 300,
            items: [],
            customer: { email: `bot${i}@mailinator.com` },
            deviceId: 'bot-device',
            ip: '198.51.100.7',
            payment: { fingerprint: `stolen-${i}`, binCountry: 'US', authResult: 'declined' },
          }),
        );
        expect(r.status).toBe(200);
        last = r.body;
      }
      expect(last.decision).toBe('decline');
      expect(last.score).toBeGreaterThanOrEqual(85);
      const codes = (last.reasons as { code: string }[]).map((x) => x.code);
      expect(codes).toContain('rule:card-testing');
      expect(typeof last.caseId).toBe('string');
      const list = await h.request('/v1/fraud/cases?status=open', { perms: 'fraud:review' });
      expect(list.status).toBe(200);
      const cases = ((await list.json()) as { cases: { id: string; orderId: string; source: string }[] })
        .cases;
      expect(cases.find((c) => c.id === last.caseId)?.orderId).toBe('burst-3');
      expect((await h.request('/v1/fraud/cases', { perms: 'fraud:score' })).status).toBe(403);
    });

    it('flags prices below the catalogue and negative quantities for review', async () => {
      const r = await score(
        base({
          orderId: 'tamper-1',
          amount: 9_000,
          items: [{ productId: 'phone', quantity: 1, unitPrice: 9_000 }],
        }),
      );
      // At least review (the model may go further), and always a case for a person.
      expect(['review', 'decline']).toContain(r.body.decision);
      expect(typeof r.body.caseId).toBe('string');
      expect((r.body.reasons as { code: string }[]).map((x) => x.code)).toContain('rule:price-tampering');
      const neg = await score(
        base({
          orderId: 'tamper-2',
          amount: 25_000,
          items: [
            { productId: 'shirt', quantity: 2, unitPrice: 25_000 },
            { productId: 'phone', quantity: -1, unitPrice: 25_000 },
          ],
        }),
      );
      expect(neg.body.decision).not.toBe('approve');
    });

    it('takes a reviewer decision once, with reasons, and uses it as a label', async () => {
      const r = await score(
        base({
          orderId: 'tamper-3',
          amount: 100,
          items: [{ productId: 'phone', quantity: 1, unitPrice: 100 }],
        }),
      );
      const caseId = r.body.caseId as string;
      const view = await h.request(`/v1/fraud/cases/${caseId}`, { perms: 'fraud:review' });
      const detail = (await view.json()) as {
        order: { features: Record<string, unknown> };
        reasons: unknown[];
      };
      expect(detail.order.features.price_mismatch_items).toBe(1);
      expect(detail.reasons.length).toBeGreaterThan(0);
      const empty = await h.request(`/v1/fraud/cases/${caseId}/decision`, {
        perms: 'fraud:review',
        body: { decision: 'decline', reasons: [] },
      });
      expect(empty.status).toBe(400);
      const ok = await h.request(`/v1/fraud/cases/${caseId}/decision`, {
        perms: 'fraud:review',
        body: { decision: 'decline', reasons: ['price_tampering'] },
      });
      expect(ok.status).toBe(200);
      const decided = (await ok.json()) as { status: string; decisionReasons: string[]; decidedBy: string };
      expect(decided).toMatchObject({
        status: 'declined',
        decisionReasons: ['price_tampering'],
        decidedBy: 'staff:stf_test',
      });
      const again = await h.request(`/v1/fraud/cases/${caseId}/decision`, {
        perms: 'fraud:review',
        body: { decision: 'approve', reasons: ['false_positive'] },
      });
      expect(again.status).toBe(409);
      expect((await h.request('/v1/fraud/cases/fcase_nope', { perms: 'fraud:review' })).status).toBe(404);
    });

    it('opens cases from shopper reports and alerts', async () => {
      const rep = await h.request('/v1/fraud/reports', {
        shopper: 'cust-1',
        body: { kind: 'unrecognised_charge', orderId: 'calm-1' },
      });
      expect(rep.status).toBe(201);
      const { caseId } = (await rep.json()) as { caseId: string };
      const view = (await (
        await h.request(`/v1/fraud/cases/${caseId}`, { perms: 'fraud:review' })
      ).json()) as { source: string; subjectId: string; reasons: { code: string }[] };
      expect(view.source).toBe('shopper_report');
      expect(view.subjectId).toBe(h.pseudonymize('user', 'cust-1'));
      expect(view.reasons[0]!.code).toBe('report:unrecognised_charge');
      expect((await h.request('/v1/fraud/reports', { body: { kind: 'other' } })).status).toBe(401);
      const alert = await h.request('/v1/fraud/cases', {
        perms: 'fraud:review',
        body: { kind: 'account_compromised', userId: 'cust-9' },
      });
      expect(alert.status).toBe(201);
      expect(((await alert.json()) as { source: string }).source).toBe('alert');
    });

    it('versions rule edits, validates expressions and dry-runs them on past orders', async () => {
      expect((await h.request('/v1/fraud/rules', { perms: 'fraud:review' })).status).toBe(403);
      const current = (await (await h.request('/v1/fraud/rules', { perms: 'fraud:admin' })).json()) as {
        version: number;
        rules: unknown[];
      };
      expect(current.version).toBe(0);
      const bad = await h.request('/v1/fraud/rules', {
        perms: 'fraud:admin',
        body: { id: 'big', name: 'Big', expression: 'amount >> 5', action: 'review' },
      });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as Json).error?.message).toMatch(/Rule 'big'.*character 9/);
      const add = await h.request('/v1/fraud/rules', {
        perms: 'fraud:admin',
        body: { id: 'big', name: 'Big order', expression: 'amount > 500000', action: 'review' },
      });
      expect(add.status).toBe(201);
      expect(((await add.json()) as { version: number }).version).toBe(1);
      const big = await score(
        base({
          orderId: 'big-1',
          amount: 900_000,
          items: [{ productId: 'phone', quantity: 1, unitPrice: 900_000 }],
        }),
      );
      expect(big.body.rulesVersion).toBe(1);
      expect((big.body.reasons as { code: string }[]).map((x) => x.code)).toContain('rule:big');
      const dry = await h.request('/v1/fraud/rules/dry-run', {
        perms: 'fraud:admin',
        body: {
          rules: [
            { id: 'all', name: 'Decline all', expression: 'amount >= 0', action: 'decline', enabled: true },
          ],
        },
      });
      const d = (await dry.json()) as {
        evaluated: number;
        decisions: { after: Record<string, number> };
        rules: { matches: number }[];
      };
      expect(d.evaluated).toBeGreaterThan(5);
      expect(d.decisions.after.decline).toBe(d.evaluated);
      expect(d.rules[0]!.matches).toBe(d.evaluated);
      const del = await h.request('/v1/fraud/rules/big', { method: 'DELETE', perms: 'fraud:admin' });
      expect(
        ((await del.json()) as { version: number; rules: { id: string }[] }).rules.some(
          (r) => r.id === 'big',
        ),
      ).toBe(false);
      expect(
        (await h.request('/v1/fraud/rules/big', { method: 'DELETE', perms: 'fraud:admin' })).status,
      ).toBe(404);
      const versions = (await (
        await h.request('/v1/fraud/rules/versions', { perms: 'fraud:admin' })
      ).json()) as { versions: { version: number }[] };
      expect(versions.versions.map((v) => v.version)).toEqual([2, 1]);
    });

    it('learns from outcomes: chargebacks and settled orders train the next model', async () => {
      const early = await h.request('/v1/fraud/model/train', { perms: 'fraud:admin', body: {} });
      expect(((await early.json()) as { trained: boolean }).trained).toBe(false);
      for (let i = 0; i < 16; i++) {
        h.clock.advance(3_600_000);
        const fraud = i % 2 === 0;
        const id = `label-${i}`;
        await score(
          base({
            orderId: id,
            customer: { id: `cust-l${i}`, email: `l${i}@gmail.com` },
            deviceId: `dev-l${i}`,
            ipCountry: fraud ? 'NG' : 'ID',
            payment: { fingerprint: `fp-l${i}`, binCountry: fraud ? 'US' : 'ID' },
          }),
        );
        const out = await h.request('/v1/fraud/outcomes', {
          perms: 'fraud:score',
          body: { orderId: id, kind: fraud ? 'chargeback' : 'legitimate' },
        });
        expect(out.status).toBe(200);
      }
      expect(
        (
          await h.request('/v1/fraud/outcomes', {
            perms: 'fraud:score',
            body: { orderId: 'never', kind: 'refund' },
          })
        ).status,
      ).toBe(404);
      const train = (await (
        await h.request('/v1/fraud/model/train', { perms: 'fraud:admin', body: {} })
      ).json()) as { trained: boolean; modelId: string; positives: number };
      expect(train.trained).toBe(true);
      expect(train.positives).toBeGreaterThanOrEqual(8);
      const model = (await (await h.request('/v1/fraud/model', { perms: 'fraud:admin' })).json()) as {
        version: string;
        weights: { feature: string; weight: number }[];
      };
      expect(model.version).toBe(train.modelId);
      expect(model.weights.find((w) => w.feature === 'bin_ip_mismatch')!.weight).toBeGreaterThan(0);
      const next = await score(base({ orderId: 'after-train' }));
      expect(next.body.modelVersion).toBe(train.modelId);
    });

    it('refund and "not received" claims raise the risk of the next order', async () => {
      const addr = { line1: 'Jalan Claim 9', postalCode: '55555', country: 'ID' };
      for (let i = 0; i < 2; i++) {
        h.clock.advance(86_400_000);
        await score(
          base({
            orderId: `claim-${i}`,
            customer: { id: 'cust-claims', email: 'c@gmail.com' },
            shippingAddress: addr,
          }),
        );
        await h.request('/v1/fraud/outcomes', {
          perms: 'fraud:score',
          body: { orderId: `claim-${i}`, kind: 'not_received', amount: 25_000 },
        });
      }
      const r = await score(
        base({
          orderId: 'claim-next',
          customer: { id: 'cust-other', email: 'o@gmail.com' },
          shippingAddress: addr,
        }),
      );
      expect((r.body.reasons as { code: string }[]).map((x) => x.code)).toContain('rule:refund-abuse');
    });

    it('exports and erases a shopper’s fraud data and stores no raw identifiers', async () => {
      const subject = h.pseudonymize('user', 'cust-1');
      const exported = await h.fraud.holder.export({ userId: subject, subjectIds: [subject] });
      expect(exported.tables.fraud_scores!.length).toBeGreaterThan(0);
      expect(JSON.stringify(exported)).not.toMatch(/ana@gmail\.com|10\.0\.0\.1|Jalan Mawar|fp-ana/);
      const erased = await h.fraud.holder.erase({ userId: subject, subjectIds: [subject] });
      expect(erased.deleted).toBeGreaterThan(0);
      const after = await h.fraud.holder.export({ userId: subject, subjectIds: [subject] });
      expect(Object.values(after.tables).every((rows) => rows.length === 0)).toBe(true);
      expect((await h.fraud.holder.erase({ userId: subject, subjectIds: [subject] })).deleted).toBe(0);
      const names = h.fraud.holder
        .describe()
        .tables.map((t) => t.table)
        .sort();
      expect(names).toEqual(['fraud_cases', 'fraud_entities', 'fraud_scores', 'fraud_velocity']);
    });
  });
}
