/** /health, /ready, /openapi.json, /metrics and the security headers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/index.ts';
import { startHarness, type Harness } from './helpers.ts';

describe('operational endpoints', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it('GET /health says the process is alive', async () => {
    const res = await h.request('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /ready says every store answers', async () => {
    const res = await h.request('/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ready',
      stores: { state: { ok: true }, events: { ok: true } },
    });
  });

  it('GET /openapi.json is an OpenAPI 3.1 document listing the catalog routes', async () => {
    const res = await h.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = JSON.parse(await res.text()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toMatch(/^3\.1/);
    expect(Object.keys(doc.paths['/v1/catalog/products'] ?? {}).sort()).toEqual(['get', 'put']);
    expect(Object.keys(doc.paths['/v1/catalog/products/{id}'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/v1/catalog/categories'] ?? {}).sort()).toEqual(['get', 'put']);
    expect(doc.paths['/health']).toBeDefined();
  });

  it('GET /metrics counts requests by route pattern and status, in Prometheus text format', async () => {
    await h.request('/health');
    await h.request('/health');
    await h.request('/v1/catalog/products/SKU-1');
    const res = await h.request('/metrics');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const count = (line: RegExp) =>
      Number(
        text
          .split('\n')
          .find((l) => line.test(l))
          ?.split(' ')
          .at(-1),
      );
    expect(
      count(/^http_requests_total\{method="GET",route="\/health",status="200"\}/),
    ).toBeGreaterThanOrEqual(3);
    // A concrete id never becomes a label: the route pattern does.
    expect(
      count(/^http_requests_total\{method="GET",route="\/v1\/catalog\/products\/:id",status="404"\}/),
    ).toBe(1);
    expect(text).not.toContain('SKU-1');
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{method="GET",route="\/health",le="\+Inf"\} \d+/,
    );
    expect(text).toMatch(/http_errors_total\{code="not_found"\} 1/);
    expect(text).toMatch(
      /candor_store_operation_duration_seconds_count\{operation="transaction|operation="migrate/,
    );
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
  });

  it('sends the security headers on every answer, and no HSTS over plain HTTP', async () => {
    for (const path of ['/health', '/no/such/route']) {
      const res = await h.request(path);
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('sends HSTS when serving TLS', async () => {
    const app = createApp({
      config: { ...h.config, tls: { certFile: 'cert.pem', keyFile: 'key.pem' } },
      logger: h.candor.logger,
      stores: h.candor.stores,
      modules: [],
    });
    const res = await app.request('/health');
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  });
});

describe('readiness when a store is down', () => {
  it('GET /ready answers 503 naming the store that does not answer', async () => {
    const h = await startHarness();
    try {
      await h.candor.stores.events.close();
      const res = await h.request('/ready');
      expect(res.status).toBe(503);
      const body = (await res.json()) as { status: string; stores: Record<string, { ok: boolean }> };
      expect(body.status).toBe('unavailable');
      expect(body.stores.events?.ok).toBe(false);
      expect(body.stores.state?.ok).toBe(true);
      expect((await h.request('/health')).status).toBe(200);
    } finally {
      await h.close().catch(() => undefined);
    }
  });
});
