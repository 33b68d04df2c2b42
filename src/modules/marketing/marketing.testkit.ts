/**
 * Test kit: the marketing module mounted on a Hono app over a real state store (SQLite in a temp dir, or a
 * PostgreSQL test schema). Guards are driven by headers: `x-test-perms` lists a staff caller's permissions,
 * `x-test-shopper` makes the caller a shopper with that customer id; the write-key guard admits every call.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { fixedClock } from '../../kernel/clock.ts';
import { createPseudonymizer } from '../../kernel/crypto.ts';
import { AppError, errorBody, isAppError, statusOf } from '../../kernel/errors.ts';
import type { AppEnv, Guards } from '../../kernel/http.ts';
import { silentLogger } from '../../kernel/logger.ts';
import type { StateStore } from '../../storage/ports.ts';
import {
  createMarketingModule,
  type MarketingModule,
  type MarketingModuleConfig,
} from './marketing.module.ts';

export const ALL_PERMS = 'marketing:read,marketing:write,experiments:write,loyalty:admin';

function headerGuards(subjectOfUser: (u: string) => string): Guards {
  const staff =
    (permission: string): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      const perms = c.req.header('x-test-perms');
      if (perms === undefined) throw new AppError('unauthorized', 'Sign in first.');
      if (!perms.split(',').includes(permission)) throw new AppError('forbidden', `Missing ${permission}.`);
      c.set('principal', {
        kind: 'staff',
        staffId: 'stf_test',
        role: 'owner',
        sessionId: null,
        apiKeyId: null,
      });
      await next();
    };
  const shopper: MiddlewareHandler<AppEnv> = async (c, next) => {
    const user = c.req.header('x-test-shopper');
    if (!user) throw new AppError('unauthorized', 'Send a shopper token.');
    c.set('principal', { kind: 'shopper', userId: user, subjectId: subjectOfUser(user) });
    await next();
  };
  const writeKey: MiddlewareHandler<AppEnv> = async (c, next) => {
    c.set('principal', { kind: 'source', sourceId: 'src_test' });
    await next();
  };
  return { staff, shopper, writeKey };
}

export type MarketingHarness = {
  request(
    path: string,
    init?: { method?: string; body?: unknown; perms?: string; shopper?: string },
  ): Promise<Response>;
  marketing: MarketingModule;
  clock: ReturnType<typeof fixedClock>;
  subjectOfUser(userId: string): string;
  close(): Promise<void>;
};

export async function openMarketingHarness(
  state: StateStore,
  cleanup: () => Promise<void>,
  config: MarketingModuleConfig = {},
): Promise<MarketingHarness> {
  const clock = fixedClock('2025-03-01T12:00:00Z');
  const pseudonymize = createPseudonymizer(Buffer.alloc(32, 9).toString('base64'));
  const subjectOfUser = (u: string) => pseudonymize('user', u);
  const marketing = createMarketingModule(
    {
      state,
      clock,
      logger: silentLogger(),
      guards: headerGuards(subjectOfUser),
      subjectOf: (who) =>
        who.userId ? pseudonymize('user', who.userId) : pseudonymize('device', who.anonymousId ?? ''),
    },
    config,
  );
  await state.migrate(marketing.migrations ?? {});
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new AppError(
          'invalid_request',
          `Invalid ${result.target}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      }
    },
  });
  app.use('*', async (c, next) => {
    c.set('requestId', 'req_test');
    await next();
  });
  app.onError((e, c) => {
    const err = isAppError(e)
      ? e
      : e instanceof HTTPException && e.status === 400
        ? new AppError('invalid_json', 'The request body is not valid JSON.')
        : new AppError('internal', 'Something went wrong on our side.');
    return c.json(errorBody(err, 'req_test'), statusOf(err.code) as 400);
  });
  marketing.routes?.(app);
  return {
    marketing,
    clock,
    subjectOfUser,
    request: async (path, init = {}) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (init.perms !== undefined) headers['x-test-perms'] = init.perms;
      if (init.shopper !== undefined) headers['x-test-shopper'] = init.shopper;
      const body = init.body === undefined ? undefined : JSON.stringify(init.body);
      return app.request(path, {
        method: init.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        ...(body === undefined ? {} : { body }),
      });
    },
    close: async () => {
      await state.close();
      await cleanup();
    },
  };
}
