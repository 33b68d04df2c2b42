/**
 * Tracking requests trust an accepted write key for WRITE_KEY_CACHE_MS without asking the store again.
 * A rotated key (no grace period) must stop working for tracking once that time has passed, and the new
 * key must work at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WRITE_KEY_CACHE_MS } from '../../src/modules/auth/keys.service.ts';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ inMemoryDisk: true });
});
afterAll(async () => {
  await h?.close();
});

const track = (writeKey: string) =>
  h.candor.app.request('/v1/track', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
    },
    body: JSON.stringify({ anonymousId: 'dev-cache', event: 'Product Viewed', properties: {} }),
  });

describe('write-key cache', () => {
  it('stops accepting a rotated key within the cache time and accepts the new key at once', async () => {
    expect((await track(h.writeKey)).status).toBe(200);
    const { writeKey: next } = await h.auth.keys.rotateWriteKey(h.sourceId, 0, 'system');
    expect((await track(next)).status).toBe(200);
    await new Promise((r) => setTimeout(r, WRITE_KEY_CACHE_MS + 250));
    const old = await track(h.writeKey);
    expect(old.status).toBe(401);
    expect(((await old.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect((await track(next)).status).toBe(200);
  });
});
