/** Issue 2, "Bad input": every malformed request gets a 4xx JSON error, never a 5xx, never a logged body. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoute, z } from '@hono/zod-openapi';
import type { CandorModule } from '../../src/kernel/module.ts';
import { startHarness, type Harness } from './helpers.ts';

const MARKER = 'shopper-marker-7f3a@example.com';

const boomModule: CandorModule = {
  name: 'boom',
  routes(router) {
    router.openapi(
      createRoute({
        method: 'get',
        path: '/test/boom',
        responses: {
          200: { description: 'never', content: { 'application/json': { schema: z.object({}) } } },
        },
      }),
      () => {
        throw new Error('connection to db-internal-host:5432 refused');
      },
    );
  },
};

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(10);
  expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
  return body.error;
}

describe('bad input', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ configOverrides: { bodyLimitBytes: 2048 }, extraModules: () => [boomModule] });
  });
  afterAll(async () => h.close());

  it('answers an unknown route with a 404 JSON error', async () => {
    await expectError(await h.request('/no/such/route'), 404, 'not_found');
  });

  it('answers a wrong method on a known route with 405 and an Allow header', async () => {
    const res = await h.request('/health', { method: 'DELETE' });
    await expectError(res, 405, 'method_not_allowed');
    expect(res.headers.get('allow')).toContain('GET');
  });

  it('answers malformed JSON with 400 invalid_json', async () => {
    const res = await h.request('/v1/catalog/products', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: `{"products": [{"id": "${MARKER}"`,
    });
    await expectError(res, 400, 'invalid_json');
  });

  it('answers a non-JSON content type with 415', async () => {
    const res = await h.request('/v1/catalog/products', {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: `products=${MARKER}`,
    });
    await expectError(res, 415, 'unsupported_media_type');
  });

  it('answers a body without a content type with 415', async () => {
    const res = await h.request('/v1/catalog/products', { method: 'PUT', body: '{"products":[]}' });
    await expectError(res, 415, 'unsupported_media_type');
  });

  it('answers an oversized body with 413, by Content-Length', async () => {
    const res = await h.request('/v1/catalog/products', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ products: [{ id: 'x', note: MARKER.repeat(200) }] }),
    });
    const e = await expectError(res, 413, 'payload_too_large');
    expect(e.message).toContain('2048');
  });

  it('answers an oversized chunked body (no Content-Length) with 413', async () => {
    const chunk = new TextEncoder().encode(`"${MARKER}",`.repeat(20));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 20) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await h.request('/v1/catalog/products', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    await expectError(res, 413, 'payload_too_large');
  });

  it('answers schema violations with 400 invalid_request naming each failing field', async () => {
    const res = await h.request('/v1/catalog/products', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ products: [{ id: 'p1', title: { en: 'Shoe' }, price: 12.5, currency: 'usd' }] }),
    });
    const e = await expectError(res, 400, 'invalid_request');
    expect(e.message).toContain('json.products.0.price');
    expect(e.message).toContain('json.products.0.currency');
  });

  it('answers a JSON body that is not an object with 400 invalid_request', async () => {
    const res = await h.request('/v1/catalog/products', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: 'null',
    });
    await expectError(res, 400, 'invalid_request');
  });

  it('answers an unexpected failure with 500 internal, leaking nothing, logged with the request id', async () => {
    const res = await h.request('/test/boom', { headers: { 'x-request-id': 'req-boom-000001' } });
    const e = await expectError(res, 500, 'internal');
    expect(e.requestId).toBe('req-boom-000001');
    expect(JSON.stringify(e)).not.toContain('db-internal-host');
    const errorLine = h
      .logs()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.requestId === 'req-boom-000001' && l.msg === 'request error');
    expect(JSON.stringify(errorLine)).toContain('db-internal-host');
  });

  it('keeps a sane incoming X-Request-Id and replaces one that is not', async () => {
    const kept = await h.request('/health', { headers: { 'x-request-id': 'abc-123_def.456' } });
    expect(kept.headers.get('x-request-id')).toBe('abc-123_def.456');
    const replaced = await h.request('/health', { headers: { 'x-request-id': '"},"level":60,"x":"' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never logs request bodies or query strings', async () => {
    await h.request(`/v1/catalog/products?q=${encodeURIComponent(MARKER)}`);
    await h.request(`/nowhere?email=${encodeURIComponent(MARKER)}`);
    const logs = h.logs();
    expect(logs).toContain('"route":"/v1/catalog/products"');
    expect(logs).toContain('"status":413');
    expect(logs).toContain('"status":415');
    expect(logs).toContain('"status":400');
    expect(logs).not.toContain(MARKER);
    expect(logs).not.toContain('shopper-marker');
  });

  it('never answered any of them with a 5xx other than the deliberate failure', async () => {
    const metrics = await (await h.request('/metrics')).text();
    const fiveXx = metrics.split('\n').filter((l) => /^http_requests_total\{.*status="5\d\d"/.test(l));
    expect(fiveXx).toEqual(['http_requests_total{method="GET",route="/test/boom",status="500"} 1']);
  });
});
