import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/kernel/config.ts';
import type { Guards } from '../../src/kernel/http.ts';
import { createLogger } from '../../src/kernel/logger.ts';
import { createCandor, type Candor } from '../../src/server/index.ts';
import { makeTempDir, type TempDir } from '../../src/storage/testing.ts';

const open: Guards = {
  staff: () => async (_c, next) => next(),
  shopper: async (_c, next) => next(),
  writeKey: async (_c, next) => next(),
};
let dir: TempDir;
let candor: Candor;

beforeAll(async () => {
  dir = makeTempDir('candor-recommend-routes');
  candor = await createCandor(testConfig(path.join(dir.path, 'data')), {
    logger: createLogger({ level: 'silent' }),
    jobs: false,
    guards: open,
  });
  const put = await candor.app.request('/v1/catalog/products', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      products: [1, 2, 3].map((i) => ({
        id: `p${i}`,
        title: { en: `Mug ${i}` },
        categoryPath: ['kitchen'],
        price: 100 * i,
        currency: 'IDR',
        stock: 3,
      })),
    }),
  });
  expect(put.status).toBe(200);
});

afterAll(async () => {
  await candor?.close();
  dir?.cleanup();
});

describe('GET /v1/recommendations', () => {
  it('answers bad input with a 4xx JSON error that says what to do', async () => {
    for (const url of [
      '/v1/recommendations?surface=nope',
      '/v1/recommendations?surface=similar',
      '/v1/recommendations?surface=for-you&limit=0',
    ]) {
      const res = await candor.app.request(url);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
      expect(body.error.code).toBe('invalid_request');
      expect(body.error.message.length).toBeGreaterThan(10);
      expect(body.error.requestId).toBeTruthy();
    }
  });

  it('serves a cold shop from the catalogue alone, with reasons, and lists the routes in OpenAPI', async () => {
    const res = await candor.app.request('/v1/recommendations?surface=similar&itemId=p1&limit=2');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      personalised: boolean;
      items: { itemId: string; reason: { en: string } }[];
    };
    expect(body.personalised).toBe(false);
    expect(body.items.map((i) => i.itemId)).not.toContain('p1');
    expect(body.items.length).toBe(2);
    const doc = (await (await candor.app.request('/openapi.json')).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/recommendations', '/v1/recommendations/not-interested']),
    );
  });

  it('rejects "not interested" without a shopper or a target', async () => {
    const res = await candor.app.request('/v1/recommendations/not-interested', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ itemId: 'p1' }),
    });
    expect(res.status).toBe(400);
  });
});
