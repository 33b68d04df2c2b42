/**
 * The HTTP application: request ids, per-request logs and metrics, body limits, security headers, one
 * error handler, the operational endpoints (/health, /ready, /openapi.json, /metrics) and every module's
 * routes. Bad input always gets a 4xx JSON error; nothing internal leaks in a 5xx.
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { matchedRoutes } from 'hono/route';
import type { ZodError } from 'zod';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createClientAddressResolver } from '../kernel/client-address.ts';
import type { RuntimeConfig } from '../kernel/config.ts';
import { AppError, ERROR_STATUS, errorBody, isAppError, type ErrorCode } from '../kernel/errors.ts';
import type { AppEnv, Router } from '../kernel/http.ts';
import { uuidv7 } from '../kernel/ids.ts';
import type { Logger } from '../kernel/logger.ts';
import type { CandorModule } from '../kernel/module.ts';
import type { Stores } from '../storage/ports.ts';
import { createMetrics, type Metrics } from './metrics.ts';

export type AppContext = {
  config: RuntimeConfig;
  logger: Logger;
  stores: Stores;
  modules: readonly CandorModule[];
  metrics?: Metrics;
  version?: string;
};

/** A caller's X-Request-Id is kept when it is short and plain, so it can never inject into logs. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

const READY_TIMEOUT_MS = 2_000;

/** Maps framework exceptions (thrown by Hono and the zod-openapi validators) onto our error codes. */
function fromHttpException(e: HTTPException): AppError {
  switch (e.status) {
    case 400:
      return /json/i.test(e.message)
        ? new AppError('invalid_json', 'The request body is not valid JSON. Send a JSON document.')
        : new AppError('invalid_request', e.message || 'The request is invalid.');
    case 401:
      return new AppError('unauthorized', 'Authentication is required for this endpoint.');
    case 403:
      return new AppError('forbidden', 'You are not allowed to do this.');
    case 404:
      return new AppError('not_found', 'Nothing is here.');
    case 413:
      return payloadTooLarge(0);
    case 415:
      return unsupportedMediaType();
    default:
      return e.status >= 500
        ? new AppError('internal', 'Something went wrong on our side.')
        : new AppError('invalid_request', e.message || 'The request is invalid.');
  }
}

function payloadTooLarge(limit: number): AppError {
  return new AppError(
    'payload_too_large',
    limit > 0
      ? `The request body is larger than the ${limit}-byte limit. Send less data per request (split batches).`
      : 'The request body is too large. Send less data per request (split batches).',
  );
}

function unsupportedMediaType(): AppError {
  return new AppError(
    'unsupported_media_type',
    'This endpoint accepts JSON only. Send the body with Content-Type: application/json.',
  );
}

/** zod issues → one message naming every failing field, so the caller knows what to fix. */
export function validationError(error: ZodError, target: string): AppError {
  const problems = error.issues
    .slice(0, 20)
    .map((i) => `${[target, ...i.path.map(String)].join('.')}: ${i.message}`)
    .join('; ');
  return new AppError('invalid_request', `Invalid request: ${problems}. Fix these fields and retry.`, {
    details: { fields: error.issues.map((i) => [target, ...i.path.map(String)].join('.')) },
  });
}

function securityHeaders(tls: boolean): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    h.set(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    );
    h.set('X-Content-Type-Options', 'nosniff');
    h.set('X-Frame-Options', 'DENY');
    h.set('Referrer-Policy', 'no-referrer');
    h.set('Cross-Origin-Opener-Policy', 'same-origin');
    // HSTS over plain HTTP would be ignored by browsers and, behind a misconfigured proxy, harmful.
    if (tls) h.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
  };
}

async function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  tags: ['operations'],
  summary: 'Liveness: the process is up and answering.',
  responses: {
    200: {
      description: 'Alive',
      content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
    },
  },
});

const StoreStatus = z.object({ ok: z.boolean(), error: z.string().optional() });
const ReadySchema = z.object({
  status: z.enum(['ready', 'unavailable']),
  stores: z.record(z.string(), StoreStatus),
});

const readyRoute = createRoute({
  method: 'get',
  path: '/ready',
  tags: ['operations'],
  summary: 'Readiness: every store answers.',
  responses: {
    200: {
      description: 'Every store is reachable',
      content: { 'application/json': { schema: ReadySchema } },
    },
    503: { description: 'A store is down', content: { 'application/json': { schema: ReadySchema } } },
  },
});

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics (text exposition format).',
  responses: { 200: { description: 'Metrics', content: { 'text/plain': { schema: z.string() } } } },
});

export function createApp(context: AppContext): Router {
  const { config, logger, stores } = context;
  const metrics = context.metrics ?? createMetrics();
  const version = context.version ?? '0.1.0';

  // The error code each answer carried, read once by the request middleware (a 404 may become a 405).
  const errorCodes = new WeakMap<object, ErrorCode>();

  const app: Router = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target);
    },
  });

  const clientAddress = createClientAddressResolver(config.trustedProxies, config.forwardedHeader);
  const peerOf = (c: Context): string => {
    try {
      return getConnInfo(c).remote.address ?? 'unknown';
    } catch {
      // app.request() in tests, without a socket.
      return 'unknown';
    }
  };

  // Request id, per-request child logger, the request log line and metrics. The log line names the
  // route pattern, never the concrete path or query string (either may carry identifiers).
  app.use('*', async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : uuidv7();
    const log = logger.child({ requestId });
    c.set('requestId', requestId);
    c.set('logger', log);
    c.set('principal', undefined);
    c.set('clientIp', clientAddress(peerOf(c as Context), c.req.header(config.forwardedHeader)));
    await next();
    c.res.headers.set('X-Request-Id', requestId);
    const route = routeLabel(c as Context);
    const status = c.res.status;
    const ms = Math.round((performance.now() - started) * 100) / 100;
    const code = errorCodes.get(c);
    metrics.observeRequest(c.req.method, route, status, ms / 1000);
    if (code !== undefined) metrics.countError(code);
    const line = { method: c.req.method, route, status, ms, code };
    if (status >= 500) log.error(line, 'request failed');
    else log.info(line, 'request');
  });

  app.use('*', securityHeaders(config.tls !== undefined));

  app.use(
    '*',
    methodNotAllowed<AppEnv>({
      app,
      onMethodNotAllowed: (c, methods) => {
        const e = new AppError(
          'method_not_allowed',
          `${c.req.method} is not allowed here. Allowed: ${methods.join(', ')}.`,
        );
        errorCodes.set(c, e.code);
        return c.json(errorBody(e, c.get('requestId')), 405, { Allow: methods.join(', ') });
      },
    }),
  );

  // Counted bytes, not the Content-Length claim alone: chunked bodies are limited too.
  const limitBody: MiddlewareHandler<AppEnv> = bodyLimit({
    maxSize: config.bodyLimitBytes,
    onError: () => {
      throw payloadTooLarge(config.bodyLimitBytes);
    },
  });
  // A GET or HEAD request has no body to limit (the Fetch API refuses one, and the Node adapter never
  // reads one). A body with a Content-Length is judged by that header alone (Node's parser never hands on
  // more bytes than it announces). Only a chunked body is counted as it streams, because asking for the
  // body stream makes the Node adapter build a full Request and a web stream for the request: a fifth of
  // the JavaScript thread's time under a tracking load, where reading the body directly costs little.
  const limitBodyUnlessRead: MiddlewareHandler<AppEnv> = (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (
      length !== undefined &&
      c.req.header('transfer-encoding') === undefined &&
      /^\d{1,15}$/.test(length)
    ) {
      if (Number(length) > config.bodyLimitBytes) throw payloadTooLarge(config.bodyLimitBytes);
      return next();
    }
    return limitBody(c, next);
  };
  app.use('*', limitBodyUnlessRead);

  app.notFound((c) => {
    const e = new AppError(
      'not_found',
      `No route for ${c.req.method} ${c.req.path}. See /openapi.json for the API.`,
    );
    errorCodes.set(c, e.code);
    return c.json(errorBody(e, c.get('requestId') ?? uuidv7()), 404);
  });

  app.onError((err, c) => {
    const requestId = c.get('requestId') ?? uuidv7();
    const log = c.get('logger') ?? logger;
    let e: AppError;
    if (isAppError(err)) e = err;
    else if (err instanceof HTTPException) e = fromHttpException(err);
    else
      e = new AppError(
        'internal',
        'Something went wrong on our side. Retry later; the request id identifies it.',
      );
    const status = ERROR_STATUS[e.code];
    errorCodes.set(c, e.code);
    if (status >= 500) {
      // Internals go to the log (with the request id), never to the caller.
      log.error({ err, code: e.code }, 'request error');
      const safe = OPAQUE_CODES.has(e.code) ? new AppError(e.code, publicMessage(e.code)) : e;
      // A 503 tells the client when to come back (backpressure); other 5xx have nothing to promise.
      if (e.retryAfter !== undefined) c.header('Retry-After', String(e.retryAfter));
      return c.json(errorBody(safe, requestId), status);
    }
    const headers: Record<string, string> = {};
    if (e.retryAfter !== undefined) headers['Retry-After'] = String(e.retryAfter);
    return c.json(errorBody(e, requestId), status as 400, headers);
  });

  app.openapi(healthRoute, (c) => c.json({ status: 'ok' as const }, 200));

  app.openapi(readyRoute, async (c) => {
    const checks = { state: stores.state.ping(), events: stores.events.ping() };
    const results: Record<string, { ok: boolean; error?: string }> = {};
    await Promise.all(
      Object.entries(checks).map(async ([name, p]) => {
        try {
          await withTimeout(p, READY_TIMEOUT_MS);
          results[name] = { ok: true };
        } catch (cause) {
          c.get('logger').warn({ store: name, err: cause }, 'store not ready');
          results[name] = { ok: false, error: 'unreachable' };
        }
      }),
    );
    const ready = Object.values(results).every((r) => r.ok);
    return c.json(
      { status: ready ? ('ready' as const) : ('unavailable' as const), stores: results },
      ready ? 200 : 503,
    );
  });

  app.openapi(metricsRoute, (c) =>
    c.text(metrics.render(), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }),
  );

  for (const m of context.modules) m.middleware?.(app);
  for (const m of context.modules) m.routes?.(app);

  let document: unknown;
  app.get('/openapi.json', (c) => {
    document ??= app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: 'Candor API',
        version,
        description: 'Privacy-first precision marketing for online shops.',
      },
    });
    return c.json(document);
  });

  return app;
}

/** 5xx codes whose messages describe our internals (paths, stores, config): the caller gets a generic one. */
const OPAQUE_CODES: ReadonlySet<ErrorCode> = new Set([
  'internal',
  'config_invalid',
  'missing_secret',
  'store_locked',
  'store_error',
]);

function publicMessage(code: ErrorCode): string {
  return code === 'store_error' || code === 'store_locked'
    ? 'A data store is not answering. Retry shortly; the request id identifies the failure.'
    : 'Something went wrong on our side. Retry later; the request id identifies it.';
}

/**
 * The matched route pattern, or `unmatched`, so metrics and logs never hold concrete paths. Catch-all
 * middleware (method ALL, e.g. the web apps mounted after every route) is not a route and never a label.
 */
function routeLabel(c: Context): string {
  const route = matchedRoutes(c)
    .filter((r) => r.method !== 'ALL' && r.path !== '*' && r.path !== '/*' && r.path !== '')
    .at(-1);
  return route?.path ?? 'unmatched';
}
