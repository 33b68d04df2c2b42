import path from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { AppError, errorBody, isAppError, statusOf } from '../../kernel/errors.ts';
import type { AppEnv, Guards, StaffRole } from '../../kernel/http.ts';
import { openSqliteStateStore } from '../../storage/index.ts';
import type { StateStore } from '../../storage/ports.ts';
import { makeTempDir, type TempDir } from '../../storage/testing.ts';
import { createConsentModule, type ConsentModule } from './consent.module.ts';
import { bucketStart, computeConsentStats, type StatRecord } from './stats.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2025-03-03T00:00:00Z'); // a Monday

let n = 0;
function rec(
  subjectId: string,
  dayOffset: number,
  purposes: StatRecord['purposes'],
  supersedes: string | null = null,
  method = 'banner',
): StatRecord {
  n++;
  return {
    consentId: `c${String(n).padStart(5, '0')}`,
    subjectId,
    purposes,
    method,
    decidedAt: T0 + dayOffset * DAY + n,
    supersedes,
  };
}

describe('consent statistics (pure)', () => {
  it('counts opt-in per purpose, GPC share and withdrawals per day, and suppresses small days', async () => {
    n = 0;
    const records: StatRecord[] = [];
    // Day 0: 4 subjects; 3 grant analytics, 1 refuses; one of them also sent GPC.
    for (const s of ['a', 'b', 'c']) records.push(rec(s, 0, { analytics: true, marketing_email: true }));
    records.push(rec('d', 0, { analytics: false }));
    records.push(rec('a', 0, { advertising: false, sale: false }, records[0]!.consentId, 'gpc'));
    // Day 1: b withdraws analytics (granted on day 0), c refuses email without having granted it before
    // in this chain (so it is not a withdrawal), e and f grant analytics for the first time.
    records.push(rec('b', 1, { analytics: false }, records[1]!.consentId));
    records.push(rec('c', 1, { personalization: false }, null));
    records.push(rec('e', 1, { analytics: true }));
    records.push(rec('f', 1, { analytics: true }));
    // Day 2: a single subject: too small to show with k = 3.
    records.push(rec('g', 2, { analytics: true }));

    const stats = await computeConsentStats(records, {
      fromMs: T0,
      toMs: T0 + 4 * DAY,
      period: 'day',
      kAnonymity: 3,
    });
    expect(stats.from).toBe('2025-03-03');
    expect(stats.to).toBe('2025-03-06');
    expect(stats.series.map((s) => s.start)).toEqual([
      '2025-03-03',
      '2025-03-04',
      '2025-03-05',
      '2025-03-06',
    ]);
    const [d0, d1, d2, d3] = stats.series;
    expect(d0!.subjects).toBe(4);
    expect(d0!.gpcSubjects).toBe(1);
    expect(d0!.gpcShare).toBeCloseTo(0.25);
    const a0 = d0!.purposes.find((p) => p.purpose === 'analytics')!;
    expect([a0.granted, a0.refused, a0.optInRate]).toEqual([3, 1, 0.75]);
    // Email was decided by 3 subjects: exactly k, so it is shown.
    expect(d0!.purposes.find((p) => p.purpose === 'marketing_email')!.granted).toBe(3);
    // Advertising was decided by only one subject (the GPC signal): hidden, not zero.
    const ad0 = d0!.purposes.find((p) => p.purpose === 'advertising')!;
    expect(ad0).toMatchObject({ suppressed: true, granted: null, optInRate: null });

    expect(d1!.subjects).toBe(4);
    expect(d1!.withdrawals).toBe(1);
    const a1 = d1!.purposes.find((p) => p.purpose === 'analytics')!;
    expect([a1.granted, a1.refused, a1.withdrawals]).toEqual([2, 1, 1]);

    expect(d2).toMatchObject({ suppressed: true, subjects: null, gpcShare: null });
    // A day nobody decided anything describes nobody: zeros, not hidden.
    expect(d3).toMatchObject({ suppressed: false, subjects: 0 });

    expect(stats.totals.subjects).toBe(7);
    expect(stats.totals.withdrawals).toBe(1);
    // Over the whole period, b's last analytics decision is a refusal.
    const at = stats.totals.purposes.find((p) => p.purpose === 'analytics')!;
    expect([at.granted, at.refused]).toEqual([5, 2]);
    expect(stats.privacy).toEqual({ kAnonymity: 3, suppressedGroups: expect.any(Number) });
    expect(stats.privacy.suppressedGroups).toBeGreaterThanOrEqual(2);
  });

  it('judges withdrawals against decisions made before the period, and groups by ISO week', async () => {
    n = 0;
    const grant = rec('a', -10, { marketing_email: true });
    const records = [grant, rec('a', 2, { marketing_email: false }, grant.consentId)];
    const stats = await computeConsentStats(records, {
      fromMs: T0,
      toMs: T0 + 14 * DAY,
      period: 'week',
      kAnonymity: 1,
    });
    expect(stats.series.map((s) => s.start)).toEqual(['2025-03-03', '2025-03-10']);
    expect(stats.series[0]!.withdrawals).toBe(1);
    expect(stats.totals.decisions).toBe(1);
    expect(bucketStart(Date.parse('2025-03-09T23:00:00Z'), 'week')).toBe(T0);
  });

  it('hides everything when fewer than k subjects decided in the whole period', async () => {
    n = 0;
    const stats = await computeConsentStats([rec('a', 0, { analytics: true })], {
      fromMs: T0,
      toMs: T0 + DAY,
      period: 'day',
      kAnonymity: 10,
    });
    expect(stats.totals).toMatchObject({ suppressed: true, subjects: null });
    expect(stats.series[0]).toMatchObject({ suppressed: true, subjects: null });
    expect(JSON.stringify(stats)).not.toContain('"a"');
  });
});

/** The roles the permission table gives consent:read (src/modules/auth/permissions.ts). */
const CONSENT_READERS: readonly StaffRole[] = ['owner', 'admin', 'support', 'privacy_officer'];

/** Guards for the test app: `x-test-role` names the staff role, which must hold the permission. */
function testGuards(): Guards {
  const staff =
    (permission: string): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      const role = c.req.header('x-test-role') as StaffRole | undefined;
      if (!role) throw new AppError('unauthorized', 'Sign in first.');
      if (permission !== 'consent:read' || !CONSENT_READERS.includes(role))
        throw new AppError('forbidden', `Missing ${permission}.`);
      c.set('principal', { kind: 'staff', staffId: `stf_${role}`, role, sessionId: null, apiKeyId: null });
      await next();
    };
  const deny: MiddlewareHandler<AppEnv> = async () => {
    throw new AppError('unauthorized', 'not used');
  };
  return { staff, shopper: deny, writeKey: deny };
}

describe('GET /v1/consent/stats', () => {
  let dir: TempDir;
  let state: StateStore;
  let consent: ConsentModule;
  const clock = fixedClock('2025-03-03T08:00:00Z');
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success)
        throw new AppError(
          'invalid_request',
          `Invalid ${result.target}: ${result.error.issues.map((i) => i.message).join('; ')}`,
        );
    },
  });
  app.onError((e, c) => {
    const err = isAppError(e) ? e : new AppError('internal', 'Something went wrong on our side.');
    return c.json(errorBody(err, 'req-test'), statusOf(err.code) as 400);
  });

  beforeAll(async () => {
    dir = makeTempDir('candor-consent-stats');
    state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
    consent = createConsentModule(
      {
        state,
        clock,
        pseudonymize: (ns, v) => `${ns}:${v}`,
        audit: { record: async () => undefined },
        guards: testGuards(),
        authenticateWriteKey: async () => null,
      },
      { kAnonymity: 5 },
    );
    await state.migrate(consent.migrations!);
    await consent.start!();
    consent.routes!(app);
    // Day 1: 12 shoppers decide through the banner, 9 allow analytics; 3 of them send GPC.
    for (let i = 0; i < 12; i++) {
      const ids = [`user:s${i}`];
      if (i < 3) await consent.service.signalGpc(ids, { channel: 'web', actor: 'test' });
      await consent.service.record({
        subjectIds: ids,
        purposes: { analytics: i < 9, marketing_email: i % 2 === 0 },
        noticeVersion: '1',
        method: 'banner',
        locale: 'en',
        channel: 'web',
        actor: 'test',
      });
    }
    // Day 2: 6 of them withdraw analytics in the privacy centre.
    clock.advance(86_400_000);
    for (let i = 0; i < 6; i++)
      await consent.service.record({
        subjectIds: [`user:s${i}`],
        purposes: { analytics: false },
        noticeVersion: '1',
        method: 'api',
        locale: 'en',
        channel: 'privacy_centre',
        actor: 'test',
      });
    // Day 3: two shoppers only: below k = 5.
    clock.advance(86_400_000);
    for (let i = 20; i < 22; i++)
      await consent.service.record({
        subjectIds: [`user:s${i}`],
        purposes: { analytics: true },
        noticeVersion: '1',
        method: 'banner',
        locale: 'id',
        channel: 'web',
        actor: 'test',
      });
  });
  afterAll(async () => {
    await state.close();
    dir.cleanup();
  });

  const get = (url: string, role?: StaffRole) =>
    app.request(url, { headers: role ? { 'x-test-role': role } : {} });

  it('answers staff with consent:read with the ledger’s aggregates', async () => {
    const res = await get('/v1/consent/stats?from=2025-03-03&to=2025-03-05', 'privacy_officer');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Awaited<ReturnType<typeof computeConsentStats>>;
    const [d1, d2, d3] = body.series;
    expect(d1).toMatchObject({ start: '2025-03-03', subjects: 12, gpcSubjects: 3, suppressed: false });
    expect(d1!.gpcShare).toBeCloseTo(0.25);
    expect(d1!.purposes.find((p) => p.purpose === 'analytics')).toMatchObject({
      granted: 9,
      refused: 3,
      optInRate: 0.75,
    });
    expect(d2).toMatchObject({ subjects: 6, withdrawals: 6 });
    expect(d3).toMatchObject({ suppressed: true, subjects: null });
    expect(body.totals).toMatchObject({ subjects: 14, withdrawals: 6 });
    expect(body.privacy.kAnonymity).toBe(5);
    expect(body.privacy.suppressedGroups).toBeGreaterThan(0);
    // No pseudonym, locale or channel leaves the endpoint.
    expect(JSON.stringify(body)).not.toMatch(/user:|privacy_centre|"web"/);
  });

  it('weekly groups, and support (also consent:read) may read them', async () => {
    const res = await get('/v1/consent/stats?from=2025-03-03&to=2025-03-09&period=week', 'support');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { series: { start: string; subjects: number }[] };
    expect(body.series).toHaveLength(1);
    expect(body.series[0]).toMatchObject({ start: '2025-03-03', subjects: 14 });
  });

  it('refuses roles without consent:read and unsigned callers', async () => {
    expect((await get('/v1/consent/stats', 'marketer')).status).toBe(403);
    expect((await get('/v1/consent/stats', 'analyst')).status).toBe(403);
    expect((await get('/v1/consent/stats')).status).toBe(401);
  });

  it('answers bad periods with 400 and a message that says what to do', async () => {
    for (const [q, words] of [
      ['from=2025-03-09&to=2025-03-01', 'on or before'],
      ['from=2023-01-01&to=2025-03-01', 'at most'],
      ['from=yesterday', 'YYYY-MM-DD'],
      ['from=2025-02-31&to=2025-03-05', 'real days'],
      ['period=month', 'Invalid'],
    ] as const) {
      const res = await get(`/v1/consent/stats?${q}`, 'owner');
      expect(res.status, q).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('invalid_request');
      expect(body.error.message, q).toContain(words);
    }
  });
});
