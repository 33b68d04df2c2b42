/**
 * The event-store contract: every EventStore adapter runs exactly this code (duckdb.test.ts,
 * postgres.server.test.ts). The analytical queries are written once, in Kysely and `sql`, and checked
 * against answers computed in JavaScript from the same events, so every adapter must give the same answer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventRecord, EventStore } from '../ports.ts';

export type EventStoreFixture = {
  store: EventStore;
  cleanup(): Promise<void>;
  /** The files the store keeps its data in, when it is embedded (scanned for residual bytes after a purge). */
  files?(): string[];
};

const DAY = 86_400_000;
const T0 = Date.UTC(2030, 0, 30, 12);

/** A small deterministic PRNG so every adapter sees the same events. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

export function makeEvent(i: number, overrides: Partial<EventRecord> = {}): EventRecord {
  return {
    eventId: `evt-${i}`,
    sourceId: 'src-web',
    subjectId: `sub-${i % 7}`,
    anonymousId: `anon-${i % 7}`,
    userId: i % 2 === 0 ? `usr-${i % 7}` : null,
    sessionId: `ses-${i % 11}`,
    type: 'page_view',
    purpose: 'analytics',
    consentId: 'con-1',
    ts: T0 + i * 1000,
    receivedAt: T0 + i * 1000 + 5,
    path: `/p/${i}`,
    referrer: null,
    productId: null,
    category: null,
    query: null,
    orderId: null,
    revenue: null,
    currency: null,
    quantity: null,
    deviceClass: 'mobile',
    country: 'ID',
    region: 'JK',
    utmSource: null,
    props: '{}',
    ...overrides,
  };
}

/** Sessions that walk product_view → add_to_cart → order_completed with drop-offs, over several months. */
function shopEvents(sessions: number, seed: number): EventRecord[] {
  const rnd = prng(seed);
  const types = ['product_view', 'add_to_cart', 'order_completed'] as const;
  const out: EventRecord[] = [];
  let n = 0;
  for (let s = 0; s < sessions; s++) {
    const start = T0 + Math.floor(rnd() * 90) * DAY + Math.floor(rnd() * DAY);
    // Some sessions add to cart without viewing first; those must not count in the funnel.
    const skipView = rnd() < 0.1;
    const depth = 1 + Math.floor(rnd() * 3);
    for (let step = skipView ? 1 : 0; step < depth; step++) {
      const type = types[step]!;
      out.push(
        makeEvent(n++, {
          eventId: `shop-${seed}-${s}-${step}`,
          subjectId: `sub-${s % 40}`,
          sessionId: `ses-${seed}-${s}`,
          userId: s % 3 === 0 ? `usr-${s % 40}` : null,
          type,
          ts: start + step * 60_000,
          receivedAt: start + step * 60_000 + 10,
          productId: `prd-${s % 13}`,
          revenue: type === 'order_completed' ? (s % 9) * 2.5 + 1 : null,
          currency: type === 'order_completed' ? 'IDR' : null,
          quantity: type === 'order_completed' ? 1 + (s % 3) : null,
        }),
      );
    }
    if (rnd() < 0.2)
      out.push(
        makeEvent(n++, { eventId: `shop-${seed}-${s}-pv`, sessionId: `ses-${seed}-${s}`, ts: start - 1000 }),
      );
  }
  return out;
}

/** The funnel written once: sessions reaching each step, in order, counted from the first view. */
async function funnel(store: EventStore): Promise<{ step1: number; step2: number; step3: number }> {
  const r = await sql<{ step1: number; step2: number; step3: number }>`
    WITH s1 AS (
      SELECT session_id, min(ts) AS t1 FROM events WHERE type = 'product_view' GROUP BY session_id
    ), s2 AS (
      SELECT e.session_id, min(e.ts) AS t2 FROM events e JOIN s1 ON s1.session_id = e.session_id
      WHERE e.type = 'add_to_cart' AND e.ts >= s1.t1 GROUP BY e.session_id
    ), s3 AS (
      SELECT e.session_id, min(e.ts) AS t3 FROM events e JOIN s2 ON s2.session_id = e.session_id
      WHERE e.type = 'order_completed' AND e.ts >= s2.t2 GROUP BY e.session_id
    )
    SELECT (SELECT count(*) FROM s1) AS step1, (SELECT count(*) FROM s2) AS step2, (SELECT count(*) FROM s3) AS step3`.execute(
    store.db,
  );
  const row = r.rows[0]!;
  return { step1: Number(row.step1), step2: Number(row.step2), step3: Number(row.step3) };
}

function expectedFunnel(events: readonly EventRecord[]): { step1: number; step2: number; step3: number } {
  const first = (type: string, session: string, after: number) =>
    events
      .filter((e) => e.sessionId === session && e.type === type && e.ts >= after)
      .reduce<number | null>((m, e) => (m === null || e.ts < m ? e.ts : m), null);
  const sessions = [...new Set(events.map((e) => e.sessionId!))];
  let step1 = 0;
  let step2 = 0;
  let step3 = 0;
  for (const s of sessions) {
    const t1 = first('product_view', s, -Infinity);
    if (t1 === null) continue;
    step1++;
    const t2 = first('add_to_cart', s, t1);
    if (t2 === null) continue;
    step2++;
    if (first('order_completed', s, t2) !== null) step3++;
  }
  return { step1, step2, step3 };
}

export function describeEventStoreContract(name: string, open: () => Promise<EventStoreFixture>): void {
  describe(`EventStore contract: ${name}`, () => {
    let fx: EventStoreFixture;
    let store: EventStore;

    beforeEach(async () => {
      fx = await open();
      store = fx.store;
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    it('stores every field as given and reads it back oldest first', async () => {
      const a = makeEvent(2, {
        referrer: 'https://example.test/',
        productId: 'prd-1',
        category: 'tea/green',
        query: '绿茶 murah',
        orderId: 'ord-1',
        revenue: 12.5,
        currency: 'IDR',
        quantity: 3,
        utmSource: 'newsletter',
        props: '{"k":"v"}',
      });
      const b = makeEvent(1, {
        subjectId: a.subjectId,
        anonymousId: null,
        userId: null,
        sessionId: null,
        path: null,
      });
      await store.append([a, b]);
      expect(await store.eventsOfSubjects([a.subjectId])).toEqual([b, a]);
      expect(await store.eventsOfSubjects([a.subjectId], 1)).toEqual([b]);
      expect(await store.eventsOfSubjects([])).toEqual([]);
    });

    it('is idempotent on event id within one batch and across batches', async () => {
      const first = await store.append([makeEvent(1), makeEvent(2), makeEvent(2), makeEvent(3)]);
      expect(first).toEqual({ inserted: 3, duplicates: 1 });
      const second = await store.append([makeEvent(3), makeEvent(4), makeEvent(1, { path: '/changed' })]);
      expect(second).toEqual({ inserted: 1, duplicates: 2 });
      expect(await store.count()).toBe(4);
      const [one] = await store.eventsOfSubjects([makeEvent(1).subjectId]);
      expect(one?.path).toBe('/p/1');
      expect(await store.append([])).toEqual({ inserted: 0, duplicates: 0 });
    });

    it('recognises a retried message dated a little differently (clock correction) as the same event', async () => {
      await store.append([makeEvent(7)]);
      // A retry is re-dated by the change in network delay: seconds, or hours after a long offline period.
      const retried = [
        makeEvent(7, { ts: makeEvent(7).ts + 5_000 }),
        makeEvent(7, { ts: makeEvent(7).ts + 6 * 3_600_000 }),
      ];
      expect(await store.append(retried)).toEqual({ inserted: 0, duplicates: 2 });
      expect(await store.count()).toBe(1);
    });

    it('appends a bulk of 50,000 events, and the same bulk again adds none', async () => {
      const bulk = Array.from({ length: 50_000 }, (_, i) => makeEvent(i, { ts: T0 + i * 60_000 }));
      expect(await store.append(bulk)).toEqual({ inserted: 50_000, duplicates: 0 });
      expect(await store.append(bulk.slice(0, 20_000))).toEqual({ inserted: 0, duplicates: 20_000 });
      expect(await store.count()).toBe(50_000);
    });

    it('accepts events that every later read and write sees at once, idempotent with appends', async () => {
      const events = Array.from({ length: 300 }, (_, i) => makeEvent(i, { ts: T0 + i * 1000 }));
      await store.accept(events.slice(0, 200));
      // Reads started after accept resolved: no waiting, no polling.
      const [count, of3, grouped] = await Promise.all([
        store.count(),
        store.eventsOfSubjects(['sub-3']),
        store.db
          .selectFrom('events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow(),
      ]);
      expect(count).toBe(200);
      expect(of3).toHaveLength(29);
      expect(of3).toEqual(events.slice(0, 200).filter((e) => e.subjectId === 'sub-3'));
      expect(Number(grouped.n)).toBe(200);
      // The same events again, accepted or appended, and a batch that repeats itself: each stored once.
      await store.accept([...events.slice(100, 250), ...events.slice(240, 260)]);
      expect(await store.append(events.slice(0, 300))).toEqual({ inserted: 40, duplicates: 260 });
      await store.accept([]);
      expect(await store.count()).toBe(300);
    });

    it('erases accepted events with everything else, and deletes by age what was accepted', async () => {
      const events = Array.from({ length: 70 }, (_, i) => makeEvent(i));
      await store.accept(events);
      expect(await store.deleteSubjects(['sub-1'])).toBe(10);
      expect(await store.eventsOfSubjects(['sub-1'])).toEqual([]);
      await store.accept([makeEvent(200, { ts: T0 - 10 * DAY })]);
      expect(await store.deleteOlderThan(T0 - DAY)).toBe(1);
      expect(await store.count()).toBe(60);
    });

    it('erases the given subjects and leaves everyone else intact', async () => {
      const events = Array.from({ length: 70 }, (_, i) => makeEvent(i));
      await store.append(events);
      const deleted = await store.deleteSubjects(['sub-1', 'sub-2']);
      expect(deleted).toBe(20);
      expect(await store.eventsOfSubjects(['sub-1', 'sub-2'])).toEqual([]);
      expect(await store.eventsOfSubjects(['sub-3'])).toEqual(events.filter((e) => e.subjectId === 'sub-3'));
      expect(await store.count()).toBe(50);
      await store.compact();
      expect(await store.count()).toBe(50);
      // An erased event sent again is stored again: erasure does not leave its ids behind.
      expect(await store.append([events[1]!])).toEqual({ inserted: 1, duplicates: 0 });
    });

    it('purges deleted subjects for good: their bytes leave the files, queries and appends keep working', async () => {
      // Enough subjects that the erased one's rows are a small part of each row group they share.
      const erased = 'sub-erased-5f1c9a77';
      const events = Array.from({ length: 30_000 }, (_, i) =>
        makeEvent(i, {
          eventId: `purge-${i}`,
          subjectId: i % 300 === 0 ? erased : `sub-${i % 299}`,
          sessionId: i % 300 === 0 ? 'ses-erased-5f1c9a77' : `ses-${i % 97}`,
          ts: T0 + i * 1000,
        }),
      );
      // Half appended, half accepted: an accepted event leaves no copy behind either (a journal file).
      await store.append(events.slice(0, 15_000));
      await store.accept(events.slice(15_000));
      const kept = events.filter((e) => e.subjectId !== erased);
      const erasedIds = events.filter((e) => e.subjectId === erased).map((e) => e.eventId);
      expect(await store.deleteSubjects([erased])).toBe(erasedIds.length);
      // Queries issued while the purge runs wait for it and then answer from the rewritten store.
      const during = store.count();
      const result = await store.purge();
      expect(await during).toBe(kept.length);
      expect(result.bytesBefore).toBeGreaterThan(0);
      expect(await store.count()).toBe(kept.length);
      expect(await store.eventsOfSubjects([erased])).toEqual([]);
      expect(await store.eventsOfSubjects(['sub-7'])).toEqual(kept.filter((e) => e.subjectId === 'sub-7'));
      expect(await store.append([makeEvent(1, { eventId: 'after-purge', ts: T0 })])).toEqual({
        inserted: 1,
        duplicates: 0,
      });
      expect(await store.count()).toBe(kept.length + 1);
      const files = fx.files?.() ?? [];
      if (store.dialect === 'duckdb') {
        expect(result.rewritten).toBe(true);
        expect(files.length).toBeGreaterThan(0);
      }
      const needles = [erased, 'ses-erased-5f1c9a77', erasedIds[1]!];
      for (const file of files.filter((f) => existsSync(f))) {
        const bytes = readFileSync(file);
        expect({ file, hits: needles.filter((n) => bytes.includes(Buffer.from(n))) }).toEqual({
          file,
          hits: [],
        });
      }
      // The kept shoppers' bytes are still in the files: the scan would find a needle that is there. Any of
      // a few, from different columns and the WAL's last append: a compressed column segment (dictionary,
      // FSST) need not hold a value's plain bytes, and one run of the whole suite under load did not find
      // 'ses-42' alone in the database file.
      const present = ['ses-42', 'sub-42', kept[4242]!.eventId, 'after-purge'].map((n) => Buffer.from(n));
      if (files.length > 0)
        expect(
          files.some((f) => {
            if (!existsSync(f)) return false;
            const bytes = readFileSync(f);
            return present.some((n) => bytes.includes(n));
          }),
        ).toBe(true);
    });

    it('deletes events older than a time, optionally only identified ones or some types', async () => {
      const events = Array.from({ length: 40 }, (_, i) =>
        makeEvent(i, { ts: T0 + i * DAY, type: i % 4 === 0 ? 'search' : 'page_view' }),
      );
      await store.append(events);
      const cut = T0 + 20 * DAY;
      const old = events.filter((e) => e.ts < cut);
      const identifiedSearch = old.filter((e) => e.userId !== null && e.type === 'search').length;
      expect(await store.deleteOlderThan(cut, { identified: true, types: ['search'] })).toBe(
        identifiedSearch,
      );
      const anonymous = old.filter((e) => e.userId === null).length;
      expect(await store.deleteOlderThan(cut, { identified: false })).toBe(anonymous);
      const rest = old.length - identifiedSearch - anonymous;
      expect(await store.deleteOlderThan(cut)).toBe(rest);
      expect(await store.count()).toBe(20);
    });

    it('answers a GROUP BY written once in Kysely the same way on every adapter', async () => {
      const events = shopEvents(400, 7);
      await store.append(events);
      const rows = await store.db
        .selectFrom('events')
        .select((eb) => [
          'type',
          eb.fn.countAll<number>().as('events'),
          eb.fn.count<number>('subject_id').distinct().as('subjects'),
          eb.fn.sum<number | null>('revenue').as('revenue'),
        ])
        .where('ts', '>=', new Date(T0 - DAY))
        .groupBy('type')
        .orderBy('type')
        .execute();
      const expected = [...new Set(events.map((e) => e.type))].sort().map((type) => {
        const of = events.filter((e) => e.type === type);
        const revenue = of.filter((e) => e.revenue !== null);
        return {
          type,
          events: of.length,
          subjects: new Set(of.map((e) => e.subjectId)).size,
          revenue: revenue.length === 0 ? null : revenue.reduce((s, e) => s + e.revenue!, 0),
        };
      });
      expect(
        rows.map((r) => ({
          type: r.type,
          events: Number(r.events),
          subjects: Number(r.subjects),
          revenue: r.revenue === null ? null : Number(r.revenue),
        })),
      ).toEqual(expected);
    });

    it('answers a 3-step funnel written once in sql the same way on every adapter', async () => {
      const events = shopEvents(600, 11);
      await store.append(events);
      const expected = expectedFunnel(events);
      expect(expected.step3).toBeGreaterThan(0);
      expect(expected.step2).toBeLessThan(expected.step1);
      expect(await funnel(store)).toEqual(expected);
    });

    it('answers ping while open', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
