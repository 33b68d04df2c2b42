/**
 * Test kit for segments and campaigns: real stores (SQLite + DuckDB in a temp dir, or a PostgreSQL test
 * schema for both), the marketing module with an audience standing in for the profiles and consent modules
 * (per-test consent, traits, contacts and preferences), mounted on a Hono app whose guards are driven by
 * headers (`x-test-perms`, `x-test-role`).
 */
import path from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { fixedClock } from '../../src/kernel/clock.ts';
import { testConfig } from '../../src/kernel/config.ts';
import { AppError, errorBody, isAppError, statusOf } from '../../src/kernel/errors.ts';
import type { AppEnv, Guards, StaffRole } from '../../src/kernel/http.ts';
import { silentLogger } from '../../src/kernel/logger.ts';
import { createMarketingModule, type MarketingModule } from '../../src/modules/marketing/index.ts';
import type { Contact, Preferences } from '../../src/modules/marketing/campaigns.service.ts';
import type { SmtpConfig } from '../../src/modules/marketing/mailer.ts';
import { openPostgresEventStore, openPostgresStateStore } from '../../src/storage/index.ts';
import { openStores } from '../../src/storage/open-stores.ts';
import type { EventRecord, EventStore, StateStore } from '../../src/storage/ports.ts';
import { createTestPgSchema, makeTempDir, requirePgUrl } from '../../src/storage/testing.ts';

export const NOW = Date.parse('2025-03-01T12:00:00Z');
export const DAY = 86_400_000;

export type Shopper = {
  consent?: Record<string, boolean>;
  personalised?: boolean;
  traits?: Record<string, unknown>;
  interests?: string[];
  contact?: Contact;
  preferences?: Partial<Preferences>;
};

/** The two stores segments and campaigns run on, opened fresh for one suite. */
export type TestStores = { state: StateStore; events: EventStore; close(): Promise<void> };
export type OpenTestStores = () => Promise<TestStores>;

/** Embedded mode: SQLite state and DuckDB events in a temp data directory. */
export const embeddedStores: OpenTestStores = async () => {
  const dir = makeTempDir('candor-campaigns');
  const stores = await openStores(testConfig(path.join(dir.path, 'data')));
  return {
    state: stores.state,
    events: stores.events,
    close: async () => {
      await stores.close();
      dir.cleanup();
    },
  };
};

/** Server mode: state and events in one PostgreSQL test schema, dropped afterwards. */
export const postgresStores: OpenTestStores = async () => {
  const url = requirePgUrl();
  const schema = await createTestPgSchema(url);
  const state = await openPostgresStateStore({ url, schema: schema.schema });
  const events = await openPostgresEventStore({ url, schema: schema.schema });
  return {
    state,
    events,
    close: async () => {
      await events.close();
      await state.close();
      await schema.drop();
    },
  };
};

let seq = 0;
export function event(
  subjectId: string,
  type: string,
  ts: number,
  extra: Partial<EventRecord> = {},
): EventRecord {
  seq++;
  return {
    eventId: `evt_${seq}_${Math.random().toString(36).slice(2)}`,
    sourceId: 'src',
    subjectId,
    anonymousId: null,
    userId: subjectId,
    sessionId: null,
    type,
    purpose: 'analytics',
    consentId: null,
    ts,
    receivedAt: ts,
    path: null,
    referrer: null,
    productId: null,
    category: null,
    query: null,
    orderId: type === 'order_completed' ? `o_${seq}` : null,
    revenue: type === 'order_completed' ? 10 : null,
    currency: null,
    quantity: null,
    deviceClass: null,
    country: null,
    region: null,
    utmSource: null,
    props: '{}',
    ...extra,
  };
}

function guards(): Guards {
  const staff =
    (permission: string): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      const perms = c.req.header('x-test-perms');
      if (perms === undefined) throw new AppError('unauthorized', 'Sign in first.');
      if (!perms.split(',').includes(permission)) throw new AppError('forbidden', `Missing ${permission}.`);
      c.set('principal', {
        kind: 'staff',
        staffId: 'stf_test',
        role: (c.req.header('x-test-role') ?? 'owner') as StaffRole,
        sessionId: null,
        apiKeyId: null,
      });
      await next();
    };
  const pass: MiddlewareHandler<AppEnv> = async (_c, next) => next();
  return { staff, shopper: pass, writeKey: pass };
}

export type CampaignHarness = Awaited<ReturnType<typeof openCampaignHarness>>;

export async function openCampaignHarness(
  open: OpenTestStores,
  options: { smtp?: SmtpConfig; kAnonymity?: number; defaultLocale?: 'en' | 'id' | 'zh' } = {},
) {
  const stores = await open();
  const clock = fixedClock(new Date(NOW));
  const shoppers = new Map<string, Shopper>();
  const shares: { recipient: string; purpose: string; categories: string[]; subjectId: string }[] = [];
  const contactReads: { subjectIds: readonly string[]; purpose: string }[] = [];
  const of = (ids: readonly string[]) => shoppers.get(ids[0] ?? '') ?? {};
  const marketing: MarketingModule = createMarketingModule(
    {
      state: stores.state,
      events: stores.events,
      clock,
      logger: silentLogger(),
      guards: guards(),
      subjectOf: (who) => who.userId ?? who.anonymousId ?? '',
      audience: {
        linked: async (s) => [s],
        isPersonalised: async (ids) =>
          (of(ids).personalised ?? false) && (of(ids).consent?.personalization ?? false),
        profileOf: async (ids) => ({ traits: of(ids).traits ?? {}, interests: of(ids).interests ?? [] }),
        consentAt: async (ids, purpose) => of(ids).consent?.[purpose] ?? false,
        preferencesOf: async (ids) => ({
          timeZone: of(ids).preferences?.timeZone ?? null,
          locale: of(ids).preferences?.locale ?? null,
        }),
        contactOf: async (ids, purpose) => {
          contactReads.push({ subjectIds: ids, purpose });
          return of(ids).contact ?? null;
        },
        products: async (_ids, personalised) =>
          personalised ? [{ id: 'p1', title: 'Trail shoe' }] : [{ id: 'p9', title: 'Best seller' }],
        logShare: async (e) => {
          shares.push(e);
        },
      },
    },
    {
      segments: { kAnonymity: options.kAnonymity ?? 3 },
      campaigns: {
        secret: 'test-secret-for-signing-links-0123456789',
        publicUrl: 'https://shop.example',
        shopName: 'Toko',
        ...(options.defaultLocale ? { defaultLocale: options.defaultLocale } : {}),
        webhook: { attempts: 3, backoffMs: 10 },
        ...(options.smtp ? { smtp: options.smtp } : {}),
      },
    },
  );
  await stores.state.migrate(marketing.migrations ?? {});
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success)
        throw new AppError(
          'invalid_request',
          `Invalid ${result.target}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
    },
  });
  app.use('*', async (c, next) => {
    c.set('requestId', 'req_test');
    await next();
  });
  app.onError((e, c) => {
    const err = isAppError(e) ? e : new AppError('internal', 'Something went wrong on our side.');
    return c.json(errorBody(err, 'req_test'), statusOf(err.code) as 400);
  });
  marketing.routes?.(app);
  return {
    stores,
    clock,
    marketing,
    segments: marketing.segments!,
    campaigns: marketing.campaigns!,
    shoppers,
    shares,
    contactReads,
    request: (p: string, init: { method?: string; body?: unknown; perms?: string; role?: string } = {}) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (init.perms !== undefined) headers['x-test-perms'] = init.perms;
      if (init.role !== undefined) headers['x-test-role'] = init.role;
      const body = init.body === undefined ? undefined : JSON.stringify(init.body);
      return app.request(p, {
        method: init.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        ...(body === undefined ? {} : { body }),
      });
    },
    close: async () => {
      await marketing.stop?.();
      await stores.close();
    },
  };
}
