/**
 * The write-key guard (recommendations, chat, privacy centre) trusts a key it accepted for
 * WRITE_KEY_CACHE_MS instead of querying the store on every request. That must never widen what a key
 * can do: a rotation through this process applies to the very next request, a rotated key's grace period
 * ends on time, and a change made by another process applies once the cache time has passed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WRITE_KEY_CACHE_MS } from '../../src/modules/auth/keys.service.ts';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const recommend = (writeKey: string) =>
  h.candor.app.request('/v1/recommendations?surface=for-you&anonymousId=dev-1', {
    headers: { authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
  });

describe('write-key guard cache', () => {
  it('applies a rotation through this process to the very next request', async () => {
    const { sourceId, writeKey } = await h.auth.keys.createSource('web shop', 'system:test');
    expect((await recommend(writeKey)).status).toBe(200);
    expect((await recommend(writeKey)).status).toBe(200);
    const { writeKey: next } = await h.auth.keys.rotateWriteKey(sourceId, 0, 'system:test');
    expect((await recommend(writeKey)).status).toBe(401);
    expect((await recommend(next)).status).toBe(200);
  });

  it("ends a rotated key's grace period on time, although the key was accepted a moment before", async () => {
    const { sourceId, writeKey } = await h.auth.keys.createSource('app', 'system:test');
    await h.auth.keys.rotateWriteKey(sourceId, 60, 'system:test');
    expect((await recommend(writeKey)).status).toBe(200);
    h.clock.advance(61_000);
    const res = await recommend(writeKey);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it('applies an expiry written by another process within the cache time', async () => {
    const { sourceId, writeKey } = await h.auth.keys.createSource('store', 'system:test');
    expect((await recommend(writeKey)).status).toBe(200);
    // What another API process's rotation writes to the shared store.
    await h.candor.stores.state.db
      .updateTable('source_write_keys')
      .set({ expires_at: h.clock.now().getTime() })
      .where('source_id', '=', sourceId)
      .execute();
    await new Promise((resolve) => setTimeout(resolve, WRITE_KEY_CACHE_MS + 250));
    expect((await recommend(writeKey)).status).toBe(401);
  });

  it('never accepts an unknown key, however often it is tried', async () => {
    const unknown = `wk_${'A'.repeat(43)}`;
    for (let i = 0; i < 3; i++) expect((await recommend(unknown)).status).toBe(401);
  });
});
