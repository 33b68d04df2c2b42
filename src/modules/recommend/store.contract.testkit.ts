/**
 * What the recommend module's storage must do on every store pair (SQLite + DuckDB in `store.test.ts`,
 * PostgreSQL in `store.server.test.ts`): versioned models with a retention of three, feedback, batched
 * impressions and aggregate exposure, shop rules, export and erasure by subject, and the per-shopper
 * history cache reading through and folding in new events from the event store.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord, EventStore, StateStore } from '../../storage/ports.ts';
import { createHistoryCache } from './history-cache.ts';
import { createRecommendStore, recommendMigrations, type RecommendStore } from './store.ts';

export type RecommendStoreHarness = { state: StateStore; events: EventStore; close(): Promise<void> };

const T0 = Date.UTC(2025, 5, 1);
let seq = 0;

export function storeEvent(subject: string, product: string, ts: number, receivedAt = ts): EventRecord {
  seq++;
  return {
    eventId: `ev-${seq}-${subject}`,
    sourceId: 'web',
    subjectId: subject,
    anonymousId: subject,
    userId: null,
    sessionId: `${subject}-s1`,
    type: 'product_view',
    purpose: 'personalization',
    consentId: null,
    ts,
    receivedAt,
    path: null,
    referrer: null,
    productId: product,
    category: null,
    query: null,
    orderId: null,
    revenue: null,
    currency: null,
    quantity: null,
    deviceClass: null,
    country: null,
    region: null,
    utmSource: null,
    props: '{}',
  };
}

export function recommendStoreContract(name: string, open: () => Promise<RecommendStoreHarness>): void {
  describe(`recommend store (${name})`, () => {
    let h: RecommendStoreHarness;
    let store: RecommendStore;
    beforeAll(async () => {
      h = await open();
      await h.state.migrate(recommendMigrations());
      store = createRecommendStore(h.state);
    });
    afterAll(async () => {
      await h?.close();
    });

    it('versions model artefacts byte for byte and keeps the last three', async () => {
      const versions: number[] = [];
      for (let v = 0; v < 5; v++)
        versions.push(await store.saveModel(new Uint8Array([v, 255, 0, 7]), { items: v }, T0 + v));
      expect(versions).toEqual([1, 2, 3, 4, 5]);
      expect(await store.latestVersion()).toBe(5);
      expect(Array.from((await store.loadModel(4))!)).toEqual([3, 255, 0, 7]);
      expect(await store.loadModel(2)).toBeNull();
      expect(await store.deleteModelsBefore(5)).toBe(2);
      expect(await store.loadModel(4)).toBeNull();
      expect(await store.latestVersion()).toBe(5);
    });

    it('adds impressions and exposure up across batches, and exports and erases one subject only', async () => {
      await store.addFeedback('ann', 'item', 'p1', T0);
      await store.addFeedback('ann', 'item', 'p1', T0 + 1);
      await store.addFeedback('ann', 'category', 'shoes', T0);
      await store.addFeedback('ben', 'item', 'p2', T0);
      const batch = new Map<string | null, string[][]>([
        ['ann', [['p1', 'p2'], ['p2']]],
        ['ben', [['p2']]],
        [null, [['p3']]],
      ]);
      await store.recordImpressions(batch, T0);
      await store.recordImpressions(new Map([['ann', [['p2']]]]), T0 + 1000);
      const ann = await store.exportSubject(['ann']);
      expect(ann.feedback.map((f) => `${f.kind}:${f.value}`).sort()).toEqual(['category:shoes', 'item:p1']);
      expect(Object.fromEntries(ann.impressions.map((i) => [i.item_id, Number(i.shown)]))).toEqual({
        p1: 1,
        p2: 3,
      });
      const day = new Date(T0).toISOString().slice(0, 10);
      const exposure = Object.fromEntries(
        (await store.exposureSince(day)).map((e) => [e.item_id, Number(e.shown)]),
      );
      expect(exposure).toEqual({ p1: 1, p2: 4, p3: 1 });
      expect(await store.eraseSubject(['ann'])).toBe(4);
      expect(await store.exportSubject(['ann'])).toEqual({ feedback: [], impressions: [] });
      expect((await store.exportSubject(['ben'])).impressions).toHaveLength(1);
      // Exposure is aggregate (no subject id) and survives the erasure.
      expect((await store.exposureSince(day)).length).toBe(3);
    });

    it('writes a batch larger than one slice completely, and leaves the connection as durable as before', async () => {
      const items = Array.from({ length: 250 }, (_, i) => `bulk-${i}`);
      await store.recordImpressions(new Map([['bulk-shopper', [items, items.slice(0, 10)]]]), T0);
      const rows = (await store.exportSubject(['bulk-shopper'])).impressions;
      expect(rows).toHaveLength(250);
      expect(rows.reduce((sum, r) => sum + Number(r.shown), 0)).toBe(260);
      if (h.state.dialect === 'sqlite') {
        // Impression writes skip the fsync; everything else must still commit with synchronous = FULL (2).
        const r = await sql<{ synchronous: number }>`pragma synchronous`.execute(h.state.db);
        expect(Number(r.rows[0]!.synchronous)).toBe(2);
      }
      await store.eraseSubject(['bulk-shopper']);
    });

    it('stores, updates and deletes shop rules', async () => {
      await store.putRule({ id: 'r1', kind: 'pin', item_id: 'p1', surface: null, factor: 1, created_at: T0 });
      await store.putRule({
        id: 'r1',
        kind: 'boost',
        item_id: 'p1',
        surface: 'similar',
        factor: 2.5,
        created_at: T0,
      });
      const rules = await store.rules();
      expect(rules).toHaveLength(1);
      expect(rules[0]).toMatchObject({ kind: 'boost', surface: 'similar', factor: 2.5 });
      expect(await store.deleteRule('r1')).toBe(true);
      expect(await store.deleteRule('r1')).toBe(false);
    });

    it('history cache: reads through once, folds in new events without duplicates, forgets on invalidation', async () => {
      await h.events.append([
        storeEvent('cat', 'a', T0 - 3000),
        storeEvent('cat', 'b', T0 - 2000),
        storeEvent('dan', 'x', T0 - 1000),
      ]);
      const cache = createHistoryCache(h.events, {
        syncEveryMs: 0,
        blockOnTail: true,
        overlapMs: 5_000,
        perSubject: 4,
      });
      expect((await cache.rowsOf(['cat'])).map((r) => r.productId)).toEqual(['a', 'b']);
      expect(cache.has('cat')).toBe(true);
      // New events (received after the tail's watermark) reach the cached shopper; the overlap window
      // re-reads events already loaded, which must not be counted twice.
      await h.events.append([storeEvent('cat', 'c', T0 + 1000), storeEvent('cat', 'd', T0 + 2000)]);
      expect((await cache.rowsOf(['cat'])).map((r) => r.productId)).toEqual(['a', 'b', 'c', 'd']);
      expect((await cache.rowsOf(['cat'])).map((r) => r.productId)).toEqual(['a', 'b', 'c', 'd']);
      // Bounded per subject: the oldest event goes.
      await h.events.append([storeEvent('cat', 'e', T0 + 3000)]);
      expect((await cache.rowsOf(['cat'])).map((r) => r.productId)).toEqual(['b', 'c', 'd', 'e']);
      // Two pseudonyms of one shopper merge in time order.
      expect((await cache.rowsOf(['dan', 'cat'])).map((r) => r.productId)).toEqual(['x', 'c', 'd', 'e']);
      cache.invalidate(['cat']);
      expect(cache.has('cat')).toBe(false);
      await h.events.deleteSubjects(['cat']);
      expect(await cache.rowsOf(['cat'])).toEqual([]);
    });

    it('history cache: a prefill from a snapshot catches up on events received after it, once', async () => {
      const cache = createHistoryCache(h.events, { syncEveryMs: 0, blockOnTail: true, overlapMs: 60_000 });
      await cache.rowsOf(['nobody']);
      const asOf = T0 + 10_000;
      // What the store held at the snapshot (the training read), and one event received after it.
      const before = storeEvent('eve', 'q1', T0 + 5_000, asOf);
      const after = storeEvent('eve', 'q2', T0 + 20_000, asOf + 1_000);
      await h.events.append([before, after]);
      await cache.prefill(
        [{ subjectId: 'eve', type: 'product_view', productId: 'q1', sessionId: null, ts: T0 + 5_000 }],
        asOf,
      );
      expect(cache.has('eve')).toBe(true);
      expect((await cache.rowsOf(['eve'])).map((r) => r.productId)).toEqual(['q1', 'q2']);
      await h.events.append([storeEvent('eve', 'q3', T0 + 30_000, asOf + 2_000)]);
      expect((await cache.rowsOf(['eve'])).map((r) => r.productId)).toEqual(['q1', 'q2', 'q3']);
    });

    it('history cache: by default answers from memory and folds new events in by a background tail', async () => {
      const cache = createHistoryCache(h.events, { syncEveryMs: 0 });
      await h.events.append([storeEvent('fay', 'f1', T0 + 40_000, T0 + 40_000)]);
      expect((await cache.rowsOf(['fay'])).map((r) => r.productId)).toEqual(['f1']);
      await h.events.append([storeEvent('fay', 'f2', T0 + 41_000, T0 + 41_000)]);
      let seen: string[] = [];
      for (let attempt = 0; attempt < 100 && seen.length < 2; attempt++) {
        seen = (await cache.rowsOf(['fay'])).map((r) => r.productId);
        if (seen.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(seen).toEqual(['f1', 'f2']);
    });

    it('history cache: stays within its subject bound (least recently used goes first)', async () => {
      await h.events.append(['s1', 's2', 's3'].map((s, x) => storeEvent(s, 'p', T0 - 500 + x)));
      const cache = createHistoryCache(h.events, { syncEveryMs: 0, blockOnTail: true, maxSubjects: 2 });
      await cache.rowsOf(['s1']);
      await cache.rowsOf(['s2']);
      await cache.rowsOf(['s1']);
      await cache.rowsOf(['s3']);
      expect(cache.size).toBe(2);
      expect([cache.has('s1'), cache.has('s2'), cache.has('s3')]).toEqual([true, false, true]);
    });
  });
}
