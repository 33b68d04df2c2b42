/**
 * Issue 12, backpressure when the database is slow (up, but not keeping up): another session holds a lock
 * on the event table, so commits wait. Requests already accepted into the group commit wait with it; once
 * more events wait than the buffer allows, the API answers 503 with Retry-After instead of taking what it
 * cannot keep. When the lock goes, everything acknowledged is stored exactly once and the refused batches
 * go through on retry, with nobody restarting anything. (Outages of PostgreSQL and NATS are in
 * server-mode-faults.server.test.ts.)
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecrets } from '../../src/kernel/config.ts';
import { eventIdOf } from '../../src/modules/ingest/index.ts';
import {
  createTestPgSchema,
  makeTempDir,
  requirePgUrl,
  type TestPgSchema,
} from '../../src/storage/testing.ts';
import { openShop, type Shop } from '../privacy/helpers.ts';

/** The group commit's default limit of waiting events (IngestConfig.maxPendingEvents). */
const MAX_PENDING = 100_000;
const BATCH = 500;
const BATCHES = Math.ceil((MAX_PENDING * 1.3) / BATCH);
const DEVICES = 20;

let url: string;
let schema: TestPgSchema;
let shop: Shop;
let sourceId: string;

beforeAll(async () => {
  url = requirePgUrl();
  schema = await createTestPgSchema(url);
  shop = await openShop(makeTempDir('candor-backpressure'), generateSecrets(), {
    pg: { url, schema: schema.schema },
  });
  for (let d = 0; d < DEVICES; d++) {
    const r = await shop.call('POST', '/v1/consent', {
      body: {
        writeKey: shop.writeKey,
        anonymousId: `dev-${d}`,
        purposes: { analytics: true },
        noticeVersion: '1',
      },
    });
    expect(r.status).toBe(201);
  }
  const row = await shop.candor.stores.state.db.selectFrom('sources').select('id').executeTakeFirstOrThrow();
  sourceId = row.id;
});
afterAll(async () => {
  await shop?.close();
  shop?.dir.cleanup();
  await schema?.drop();
});

const body = (n: number) => ({
  batch: Array.from({ length: BATCH }, (_, i) => ({
    type: 'track',
    event: 'Product Viewed',
    anonymousId: `dev-${(n + i) % DEVICES}`,
    messageId: `bp${n}-e${i}`,
    properties: { product_id: `p${i % 50}` },
  })),
});
const ids = (n: number) => body(n).batch.map((e) => eventIdOf(sourceId, e.messageId));

describe('backpressure with a slow database', { timeout: 240_000 }, () => {
  it('answers 503 + Retry-After beyond the buffer, keeps what it acknowledged, and recovers by itself', async () => {
    const basic = `Basic ${Buffer.from(`${shop.writeKey}:`).toString('base64')}`;
    const send = async (n: number) => {
      const res = await shop.call('POST', '/v1/batch', { body: body(n), auth: basic });
      return { n, status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() };
    };

    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE "${schema.schema}".events IN ACCESS EXCLUSIVE MODE`);
    let released = false;
    try {
      const answers: Promise<Awaited<ReturnType<typeof send>>>[] = [];
      const refused: Awaited<ReturnType<typeof send>>[] = [];
      for (let n = 0; n < BATCHES; n++) {
        const answer = send(n);
        answers.push(answer);
        // Refusals come back at once while accepted requests wait for the commit.
        void answer.then((a) => a.status === 503 && refused.push(a));
        if (n % 20 === 19) await new Promise((r) => setTimeout(r, 0));
      }
      const deadline = Date.now() + 120_000;
      while (refused.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(refused.length).toBeGreaterThan(0);
      await locker.query('COMMIT');
      released = true;

      const all = await Promise.all(answers);
      const acked = all.filter((a) => a.status === 200).map((a) => a.n);
      const turnedAway = all.filter((a) => a.status === 503);
      expect(all.filter((a) => a.status !== 200 && a.status !== 503).map((a) => a.text)).toEqual([]);
      expect(turnedAway.length).toBeGreaterThan(0);
      expect(turnedAway.every((a) => Number(a.retryAfter) > 0)).toBe(true);
      // It never held much more than its limit, and it did take up to it.
      expect(acked.length * BATCH).toBeGreaterThan(MAX_PENDING * 0.5);

      // Every acknowledged event is stored, once.
      const stored = async () => {
        const r = await locker.query<{ event_id: string; n: string }>(
          `SELECT event_id, count(*) AS n FROM "${schema.schema}".events GROUP BY event_id`,
        );
        return new Map(r.rows.map((x) => [x.event_id, Number(x.n)]));
      };
      let have = await stored();
      expect(acked.flatMap(ids).filter((id) => !have.has(id))).toEqual([]);
      expect([...have.values()].filter((n) => n !== 1)).toEqual([]);

      // The refused batches go through when the client retries: it recovered without a restart.
      for (const a of turnedAway) expect((await send(a.n)).status).toBe(200);
      have = await stored();
      expect(have.size).toBe(BATCHES * BATCH);
      expect([...have.values()].every((n) => n === 1)).toBe(true);
      console.log(
        `[backpressure] ${BATCHES} batches of ${BATCH}: ${acked.length} waited for the locked table and were acknowledged once it was free, ${turnedAway.length} were answered 503 + Retry-After at once, all ${BATCHES * BATCH} events stored once after the retries`,
      );
    } finally {
      if (!released) await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  });
});
