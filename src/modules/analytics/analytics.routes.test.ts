import path from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { AppError, errorBody, isAppError, statusOf } from '../../kernel/errors.ts';
import type { AppEnv, Guards, StaffRole } from '../../kernel/http.ts';
import { createLogger } from '../../kernel/logger.ts';
import { openDuckDbEventStore, openSqliteStateStore } from '../../storage/index.ts';
import type { EventRecord, EventStore, StateStore } from '../../storage/ports.ts';
import { makeTempDir, type TempDir } from '../../storage/testing.ts';
import { createAnalyticsModule } from './analytics.module.ts';
import { FIXTURE_START, generateFixture } from './fixture.testkit.ts';
import { funnelQuery } from './funnel.query.ts';

/** Guards for the test app: `x-test-role` names the staff role; the role must grant the permission. */
function testGuards(): Guards {
  const staff =
    (permission: string): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      const role = c.req.header('x-test-role') as StaffRole | undefined;
      if (!role) throw new AppError('unauthorized', 'Sign in first.');
      if (permission === 'analytics:read' && !['owner', 'analyst'].includes(role))
        throw new AppError('forbidden', 'Missing analytics:read.');
      c.set('principal', { kind: 'staff', staffId: `stf_${role}`, role, sessionId: null, apiKeyId: null });
      await next();
    };
  const deny: MiddlewareHandler<AppEnv> = async () => {
    throw new AppError('unauthorized', 'not used');
  };
  return { staff, shopper: deny, writeKey: deny };
}

describe('analytics HTTP routes', () => {
  let dir: TempDir;
  let events: EventStore;
  let state: StateStore;
  let data: EventRecord[];
  const clock = fixedClock(new Date(FIXTURE_START + 45 * 86_400_000));
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
    dir = makeTempDir('candor-analytics-routes');
    events = await openDuckDbEventStore({ file: path.join(dir.path, 'events.duckdb') });
    state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
    data = generateFixture();
    await events.append(data);
    const module = createAnalyticsModule(
      { events, state, clock, logger: createLogger({ level: 'silent' }), guards: testGuards() },
      { kAnonymity: 12, epsilonBudget: 2, budgetPeriodDays: 30 },
    );
    await state.migrate(module.migrations!);
    module.routes!(app);
  });
  afterAll(async () => {
    await events.close();
    await state.close();
    dir.cleanup();
  });

  const get = (url: string, role?: string) =>
    app.request(url, { headers: role ? { 'x-test-role': role } : {} });
  const post = (url: string, body: unknown, role = 'owner') =>
    app.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test-role': role },
      body: JSON.stringify(body),
    });
  const range = 'from=2025-01-06&to=2025-02-16';

  it('answers 401 without a session and 403 without the permission, in the one error shape', async () => {
    const res = await get(`/v1/analytics/overview?${range}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized', requestId: 'req-test' } });
    expect((await get(`/v1/analytics/overview?${range}`, 'support')).status).toBe(403);
  });

  it('suppresses groups under k shoppers for an analyst but not for the owner', async () => {
    const analyst = (await (
      await get(`/v1/analytics/dwell?${range}&by=path&limit=100`, 'analyst')
    ).json()) as {
      rows: { shoppers: number }[];
      privacy: { kAnonymity: number; suppressedGroups: number };
    };
    const owner = (await (
      await get(`/v1/analytics/dwell?${range}&by=path&limit=100`, 'owner')
    ).json()) as typeof analyst;
    expect(owner.privacy).toEqual({ kAnonymity: null, suppressedGroups: 0 });
    const small = owner.rows.filter((r) => r.shoppers < 12).length;
    expect(small).toBeGreaterThan(0);
    expect(analyst.privacy).toEqual({ kAnonymity: 12, suppressedGroups: small });
    expect(analyst.rows.length).toBeGreaterThan(0);
    expect(analyst.rows.every((r) => r.shoppers >= 12)).toBe(true);
    expect(analyst.rows).toEqual(owner.rows.filter((r) => r.shoppers >= 12));

    const funnel = (await (
      await post(
        '/v1/analytics/funnels',
        {
          from: '2025-01-06',
          to: '2025-02-16',
          steps: [{ type: 'page_view' }, { type: 'add_to_cart' }],
          breakdown: 'product_id',
        },
        'analyst',
      )
    ).json()) as { breakdown: { groups: { steps: { shoppers: number }[] }[] } };
    expect(funnel.breakdown.groups.every((g) => g.steps[0]!.shoppers >= 12)).toBe(true);
  });

  it('serves a funnel equal to the query over the same range', async () => {
    const body = {
      from: '2025-01-06',
      to: '2025-02-16',
      steps: [{ type: 'product_view' }, { type: 'add_to_cart' }, { type: 'order_completed' }],
      windowSeconds: 86_400,
      breakdown: 'device_class',
      dropOffStep: 2,
    };
    const res = await post('/v1/analytics/funnels', body);
    expect(res.status).toBe(200);
    const direct = await funnelQuery(events, {
      range: { from: FIXTURE_START, to: Date.UTC(2025, 1, 17) },
      steps: body.steps,
      windowMs: 86_400_000,
      order: 'ordered',
      breakdown: 'device_class',
      dropOff: { step: 2, limit: 100 },
    });
    expect(await res.json()).toEqual({ ...direct, privacy: { kAnonymity: null, suppressedGroups: 0 } });
  });

  it('documents every route in the OpenAPI document', () => {
    const doc = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'test', version: '0' } });
    for (const p of [
      'overview',
      'funnels',
      'paths',
      'browse-depth',
      'dwell',
      'search',
      'cart',
      'retention',
      'reviews',
      'private/overview',
      'private/funnels',
      'private/budget',
    ]) {
      expect(doc.paths?.[`/v1/analytics/${p}`], p).toBeDefined();
    }
    expect(doc.components?.schemas?.Funnel).toBeDefined();
  });

  it('answers every report endpoint', async () => {
    for (const p of [
      'overview',
      'paths?type=search&',
      'browse-depth',
      'dwell?by=category&',
      'search',
      'cart',
      'retention?period=week&periods=6&',
      'reviews',
    ]) {
      const url = p.includes('?') ? `/v1/analytics/${p}${range}` : `/v1/analytics/${p}?${range}`;
      const res = await get(url, 'owner');
      expect(res.status, url).toBe(200);
    }
  });

  it('rejects bad input with a 4xx that says what to fix', async () => {
    const cases: [Response | Promise<Response>, string][] = [
      [get('/v1/analytics/dwell?by=nope', 'owner'), 'invalid_request'],
      [get('/v1/analytics/overview?from=2025-02-01&to=2025-01-01', 'owner'), 'invalid_request'],
      [get('/v1/analytics/overview?from=yesterday', 'owner'), 'invalid_request'],
      [get('/v1/analytics/paths', 'owner'), 'invalid_request'],
      [post('/v1/analytics/funnels', { steps: [{ type: 'page_view' }] }), 'invalid_request'],
      [
        post('/v1/analytics/funnels', {
          steps: [{ type: 'a' }, { type: 'b' }],
          breakdown: 'password; drop table events',
        }),
        'invalid_request',
      ],
      [
        post('/v1/analytics/funnels', { steps: [{ type: 'a' }, { type: 'b' }], dropOffStep: 2 }),
        'invalid_request',
      ],
      [post('/v1/analytics/private/overview', { epsilon: -1 }), 'invalid_request'],
    ];
    for (const [pending, code] of cases) {
      const res = await pending;
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(10);
    }
  });

  it('releases differentially private answers with ε and intervals, repeats them for free, and refuses when the budget is spent', async () => {
    const body = { from: '2025-01-06', to: '2025-01-19', epsilon: 1 };
    const first = await post('/v1/analytics/private/overview', body, 'analyst');
    expect(first.status).toBe(200);
    const a = (await first.json()) as {
      answer: { days: { shoppers: { value: number; epsilon: number; ci95: [number, number] } }[] };
      cached: boolean;
      epsilonSpent: number;
    };
    expect(a.cached).toBe(false);
    expect(a.epsilonSpent).toBe(1);
    expect(a.answer.days).toHaveLength(14);
    for (const d of a.answer.days) {
      expect(d.shoppers.epsilon).toBeCloseTo(1 / 3, 9);
      expect(d.shoppers.ci95[0]).toBeLessThan(d.shoppers.value);
      expect(d.shoppers.ci95[1]).toBeGreaterThan(d.shoppers.value);
    }
    const repeat = (await (await post('/v1/analytics/private/overview', body, 'analyst')).json()) as typeof a;
    expect(repeat.cached).toBe(true);
    expect(repeat.answer).toEqual(a.answer);

    const funnel = await post('/v1/analytics/private/funnels', {
      from: '2025-01-06',
      to: '2025-02-16',
      steps: [{ type: 'page_view' }, { type: 'order_completed' }],
      epsilon: 1,
    });
    expect(funnel.status).toBe(200);
    const refused = await post('/v1/analytics/private/overview', { ...body, epsilon: 0.5 });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
      'privacy_budget_exhausted',
    );
    expect(await (await get('/v1/analytics/private/budget', 'owner')).json()).toEqual({
      epsilonBudget: 2,
      spent: 2,
      remaining: 0,
      periodDays: 30,
    });
  });

  it('drops a shopper from every new aggregate once their events are erased', async () => {
    const subject = data.find((e) => e.type === 'order_completed')!.subjectId;
    const before = (await (await get(`/v1/analytics/overview?${range}`, 'owner')).json()) as {
      current: { totals: { shoppers: number; orders: number } };
    };
    const theirOrders = data.filter((e) => e.subjectId === subject && e.type === 'order_completed').length;
    await events.deleteSubjects([subject]);
    const after = (await (await get(`/v1/analytics/overview?${range}`, 'owner')).json()) as typeof before;
    expect(after.current.totals.shoppers).toBe(before.current.totals.shoppers - 1);
    expect(after.current.totals.orders).toBe(before.current.totals.orders - theirOrders);
    const funnel = (await (
      await post('/v1/analytics/funnels', {
        from: '2025-01-06',
        to: '2025-02-16',
        steps: [{ type: 'page_view' }, { type: 'order_completed' }],
        dropOffStep: 1,
        dropOffLimit: 1000,
      })
    ).json()) as { dropOff: { subjectIds: string[] } };
    expect(funnel.dropOff.subjectIds).not.toContain(subject);
  });
});
