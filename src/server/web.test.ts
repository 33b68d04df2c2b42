import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../kernel/config.ts';
import type { AppEnv } from '../kernel/http.ts';
import { buildWeb, DIST_DIR } from '../../web/scripts/build.ts';
import { createCandor, type Candor } from './candor.ts';
import { mountWeb } from './web.ts';

let dir: string;
let candor: Candor;
let dashboardScript: string;

beforeAll(async () => {
  await buildWeb();
  dashboardScript = (await readdir(path.join(DIST_DIR, 'assets'))).find((f) => f.startsWith('dashboard-'))!;
  dir = await mkdtemp(path.join(tmpdir(), 'candor-web-'));
  candor = await createCandor(testConfig(dir), { jobs: false });
});

afterAll(async () => {
  await candor?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const get = (p: string, init?: RequestInit) => candor.app.request(p, init);
/** A browser navigation: it asks for HTML. */
const page = (p: string) => candor.app.request(p, { headers: { accept: 'text/html,application/xhtml+xml' } });

describe('serving the web apps', () => {
  it('serves the dashboard at / under the strict CSP, revalidated on every load', async () => {
    const res = await page('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain(`/assets/${dashboardScript}`);
    // No inline script: every <script> loads a same-origin file.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('answers the dashboard’s own paths with the dashboard (reload keeps the page)', async () => {
    for (const p of ['/overview', '/funnels', '/staff/'] as const) {
      const res = await page(p);
      expect(res.status, p).toBe(200);
      expect(await res.text(), p).toContain(`/assets/${dashboardScript}`);
    }
  });

  it('serves the privacy centre at /privacy', async () => {
    for (const p of ['/privacy', '/privacy/anything']) {
      const res = await page(p);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toMatch(/\/assets\/privacy-[\w-]+\.js/);
      expect(html).not.toContain(dashboardScript);
    }
  });

  it('caches hashed assets for a year and the banner briefly', async () => {
    const asset = await get(`/assets/${dashboardScript}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const banner = await get('/banner.js');
    expect(banner.status).toBe(200);
    expect(banner.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await banner.text()).toContain('candorBanner');
  });

  it('answers an unknown path asked for by an API client (not a browser page load) with the JSON 404', async () => {
    const res = await get('/no/such/route', { headers: { accept: 'application/json' } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('keeps API 404s as JSON errors and never falls back for API paths', async () => {
    for (const p of ['/v1/nothing-here', '/v1', '/v1/analytics/nope']) {
      const res = await get(p);
      expect(res.status, p).toBe(404);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('not_found');
    }
    const health = await get('/health');
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('answers a missing file and a write to a page with a JSON 404, not the dashboard', async () => {
    for (const [p, method] of [
      ['/assets/missing-abc.js', 'GET'],
      ['/favicon.ico', 'GET'],
      ['/overview', 'POST'],
    ] as const) {
      const res = await get(p, { method });
      expect(res.status, `${method} ${p}`).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/json');
    }
  });

  it('never serves a file outside web/dist', async () => {
    for (const p of [
      '/assets/../../package.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/..%2f..%2fpackage.json',
      '/sdk/..%2f..%2fpackage.json',
      '/assets/%E0%A4%A',
    ]) {
      const res = await get(p);
      expect(res.status, p).not.toBe(200);
      expect(await res.text(), p).not.toContain('"name": "candor"');
    }
  });

  it('says how to build the dashboard when web/dist is missing', async () => {
    const app = new OpenAPIHono<AppEnv>();
    mountWeb(app, { webDir: path.join(dir, 'no-such-dist') });
    const res = await app.request('/', { headers: { accept: 'text/html' } });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run web:build');
  });
});
