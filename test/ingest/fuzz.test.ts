/**
 * Fuzz (issue 3): 10,000+ malformed or hostile requests to the tracking and consent endpoints — broken
 * JSON, wrong types, huge strings, deep nesting, `__proto__`/`constructor` keys, invalid UTF-8, wrong
 * auth, wrong content types. Every one is answered 4xx with an error code; nothing is stored; no crash.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.ts';

const ENDPOINTS = [
  '/v1/track',
  '/v1/page',
  '/v1/identify',
  '/v1/alias',
  '/v1/batch',
  '/v1/events',
  '/v1/consent',
];
const TOTAL = 10_200;

type Req = { path: string; body: string | Uint8Array; headers: Record<string, string> };

let h: Harness;
let basic: string;
beforeAll(async () => {
  h = await startHarness({ inMemoryDisk: true });
  basic = `Basic ${Buffer.from(`${h.writeKey}:`).toString('base64')}`;
});
afterAll(async () => {
  await h?.close();
});

function deep(depth: number, key: string): string {
  return `${`{"${key}":`.repeat(depth)}1${'}'.repeat(depth)}`;
}

function requests(): fc.Arbitrary<Req> {
  const path = fc.constantFrom(...ENDPOINTS);
  const auth = () => ({ 'content-type': 'application/json', authorization: basic });
  // Events that look plausible but are always invalid somewhere (no identity, wrong types, unknown names).
  const hostileEvent = fc.oneof(
    fc.record({
      type: fc.constantFrom('track', 'page', 'identify', 'alias', 'screen'),
      event: fc.anything(),
    }),
    fc.record({
      anonymousId: fc.oneof(
        fc.constant(''),
        fc.integer().map(() => null),
        fc.array(fc.string()),
      ),
      type: fc.string(),
    }),
    fc.record({
      anonymousId: fc.string({ minLength: 1 }).map((s) => [s]),
      type: fc.constant('track'),
      event: fc.string(),
    }),
    fc.record({ userId: fc.string({ minLength: 300, maxLength: 400 }), type: fc.constant('page') }),
    fc.record({
      anonymousId: fc.constant('a'),
      type: fc.constant('page'),
      timestamp: fc.constantFrom('yesterday', '1999-01-01T00:00:00Z', 'NaN'),
    }),
  );
  return fc.oneof(
    // Broken JSON.
    fc.record({ path, body: fc.string().map((s) => `{${s}`), headers: fc.constant(auth()) }),
    fc.record({
      path,
      body: fc.constantFrom('', 'null', '[]', '"x"', '42', 'true', '{"a":', '\u0000'),
      headers: fc.constant(auth()),
    }),
    // Wrong types everywhere.
    fc.record({
      path,
      body: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
      headers: fc.constant(auth()),
    }),
    fc.record({ path, body: hostileEvent.map((e) => JSON.stringify(e)), headers: fc.constant(auth()) }),
    fc.record({
      path: fc.constantFrom('/v1/batch', '/v1/events'),
      body: fc
        .array(hostileEvent, { minLength: 1, maxLength: 20 })
        .map((list) => JSON.stringify({ batch: list, events: list })),
      headers: fc.constant(auth()),
    }),
    // Huge strings (over the batch limit, or over the per-event limit).
    fc.record({
      path,
      body: fc.constantFrom(
        `{"anonymousId":"${'a'.repeat(600_000)}"}`,
        `{"anonymousId":"a","type":"page","properties":{"x":"${'y'.repeat(40_000)}"}}`,
      ),
      headers: fc.constant(auth()),
    }),
    // Deep nesting.
    fc.record({
      path,
      body: fc.integer({ min: 20, max: 5000 }).map((d) => deep(d, 'properties')),
      headers: fc.constant(auth()),
    }),
    fc.record({
      path,
      body: fc.integer({ min: 1000, max: 100_000 }).map((d) => '['.repeat(d)),
      headers: fc.constant(auth()),
    }),
    // Prototype keys.
    fc.record({
      path,
      body: fc.constantFrom(
        '{"__proto__":{"anonymousId":"a","type":"page","polluted":true}}',
        '{"constructor":{"prototype":{"polluted":true}},"type":"page"}',
        '{"anonymousId":{"__proto__":"a"},"type":"track","event":"__proto__","properties":{"__proto__":{"polluted":true}}}',
        '{"batch":{"__proto__":[]},"events":{"length":3}}',
        '{"purposes":{"__proto__":{"analytics":true}},"userId":{"__proto__":"a"},"noticeVersion":"1"}',
      ),
      headers: fc.constant(auth()),
    }),
    // Invalid UTF-8.
    fc.record({
      path,
      body: fc
        .uint8Array({ minLength: 1, maxLength: 64 })
        .map((b) => new Uint8Array([0x7b, 0xff, 0xfe, ...b, 0xc3])),
      headers: fc.constant(auth()),
    }),
    // Wrong auth.
    fc.record({
      path,
      body: fc.constant(
        '{"anonymousId":"a","type":"page","event":"Product Viewed","purposes":{"analytics":true},"noticeVersion":"1"}',
      ),
      headers: fc.oneof(
        fc.constant({ 'content-type': 'application/json' }),
        fc.string().map((s) => ({
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${s}:`).toString('base64')}`,
        })),
        fc
          .string()
          .map((s) => ({ 'content-type': 'application/json', authorization: s.replace(/[\r\n]/g, '') })),
        fc.constant({ 'content-type': 'application/json', authorization: `Bearer ${h.writeKey}x` }),
      ),
    }),
    // Wrong content type.
    fc.record({
      path,
      body: fc.constant('{}'),
      headers: fc.constantFrom(
        { 'content-type': 'application/xml', authorization: basic },
        { 'content-type': 'multipart/form-data', authorization: basic },
      ),
    }),
  );
}

describe('tracking and consent endpoints under fuzz', () => {
  it(`answers ${TOTAL} hostile requests with 4xx JSON errors and stores nothing`, async () => {
    const before = await h.candor.stores.events.count();
    const samples = fc.sample(requests(), { numRuns: TOTAL, seed: 3 });
    const statuses = new Map<number, number>();
    for (let i = 0; i < samples.length; i += 50) {
      await Promise.all(
        samples.slice(i, i + 50).map(async (r) => {
          const res = await h.candor.app.request(r.path, {
            method: 'POST',
            headers: r.headers,
            body: typeof r.body === 'string' ? r.body : Buffer.from(r.body),
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status < 400 || res.status >= 500) {
            throw new Error(
              `${r.path} answered ${res.status} to ${String(r.body).slice(0, 200)}: ${await res.text()}`,
            );
          }
          const body = (await res.json()) as {
            error?: { code?: unknown; message?: unknown; requestId?: unknown };
          };
          expect(typeof body.error?.code).toBe('string');
          expect(typeof body.error?.message).toBe('string');
          expect(typeof body.error?.requestId).toBe('string');
        }),
      );
    }
    expect(samples.length).toBeGreaterThanOrEqual(10_000);
    expect(await h.candor.stores.events.count()).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The mix reached every kind of refusal.
    for (const status of [400, 401, 413, 415]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
    // And the server still works.
    const ok = await h.post('/v1/consent', {
      anonymousId: 'after-fuzz',
      purposes: { analytics: true },
      noticeVersion: '1',
    });
    expect(ok.status).toBe(201);
    const stored = await h.post('/v1/page', { anonymousId: 'after-fuzz', messageId: 'm' });
    expect(await stored.json()).toMatchObject({ accepted: 1 });
  }, 120_000);
});
