/**
 * Test kit: the fraud module mounted on a Hono app with the real catalog and audit modules on a real state store
 * (SQLite in a temp dir, or a PostgreSQL test schema), and guards driven by headers: `x-test-perms` lists the
 * caller's permissions, `x-test-shopper` makes the caller a shopper with that customer id.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { fixedClock } from '../../kernel/clock.ts';
import { generateKeyPairSync } from 'node:crypto';
import { createPseudonymizer } from '../../kernel/crypto.ts';
import { AppError, errorBody, isAppError, statusOf } from '../../kernel/errors.ts';
import type { AppEnv, Guards } from '../../kernel/http.ts';
import { silentLogger } from '../../kernel/logger.ts';
import type { StateStore } from '../../storage/ports.ts';
import { createAuditModule } from '../audit/index.ts';
import { createCatalogModule } from '../catalog/index.ts';
import { createFraudModule, type FraudModule } from './fraud.module.ts';

export const TEST_PSEUDONYM_KEY = Buffer.alloc(32, 7).toString('base64');

export function headerGuards(pseudonymize: (ns: string, v: string) => string): Guards {
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
    c.set('principal', { kind: 'shopper', userId: user, subjectId: pseudonymize('user', user) });
    await next();
  };
  const deny: MiddlewareHandler<AppEnv> = async () => {
    throw new AppError('unauthorized', 'not used');
  };
  return { staff, shopper, writeKey: deny };
}

export type FraudHarness = {
  request(
    path: string,
    init?: { method?: string; body?: unknown; perms?: string; shopper?: string; raw?: string },
  ): Promise<Response>;
  fraud: FraudModule;
  clock: ReturnType<typeof fixedClock>;
  pseudonymize: (ns: string, v: string) => string;
  close(): Promise<void>;
};

export const ALL_PERMS = 'fraud:score,fraud:review,fraud:admin,catalog:write';

export async function openFraudHarness(
  state: StateStore,
  cleanup: () => Promise<void>,
): Promise<FraudHarness> {
  const clock = fixedClock('2025-03-01T12:00:00Z');
  const pseudonymize = createPseudonymizer(TEST_PSEUDONYM_KEY);
  const guards = headerGuards(pseudonymize);
  const logger = silentLogger();
  const audit = createAuditModule(
    { state, clock, logger, guards },
    {
      signingKey: generateKeyPairSync('ed25519')
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString(),
    },
  );
  const catalog = createCatalogModule({ state, guards, logger, clock }, {});
  const fraud = createFraudModule(
    {
      state,
      clock,
      logger,
      guards,
      pseudonymize,
      audit: audit.service,
      catalog: {
        prices: async (ids) =>
          new Map(
            (await catalog.service.getProducts(ids)).map((p) => [
              p.id,
              { price: p.price, currency: p.currency, category: p.categoryPath.join('/') || null },
            ]),
          ),
      },
    },
    { minTrainingLabels: 10 },
  );
  await state.migrate({ ...audit.migrations, ...catalog.migrations, ...fraud.migrations });
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
    c.set('requestId', 'req_test_0001');
    await next();
  });
  app.onError((e, c) => {
    const err = isAppError(e)
      ? e
      : e instanceof HTTPException && e.status === 400
        ? new AppError('invalid_json', 'The request body is not valid JSON.')
        : new AppError('internal', 'Something went wrong on our side.');
    return c.json(errorBody(err, 'req_test_0001'), statusOf(err.code) as 400);
  });
  catalog.routes?.(app);
  fraud.routes?.(app);
  return {
    fraud,
    clock,
    pseudonymize,
    request: (path, init = {}) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (init.perms !== undefined) headers['x-test-perms'] = init.perms;
      if (init.shopper !== undefined) headers['x-test-shopper'] = init.shopper;
      const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
      return Promise.resolve(
        app.request(path, {
          method: init.method ?? (body === undefined ? 'GET' : 'POST'),
          headers,
          ...(body === undefined ? {} : { body }),
        }),
      );
    },
    close: async () => {
      await state.close();
      await cleanup();
    },
  };
}
