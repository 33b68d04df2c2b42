// `npm run bench -- analytics [--events N] [--file PATH] [--runs R]`
// A generated shop of ≥ 10M events in a DuckDB file (written through the EventStore port), then the median of
// R runs of each analytics query beside a hand-written DuckDB SQL query for the same question, in the same
// run on the same file. Records bench/results/analytics.json and prints a table. The data file is written by
// a child process (so the recorded peak RSS is the query phase's alone), in time order, and reused while it
// holds enough events.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createRng, createZipf } from '../src/flows/demo/index.ts';
import { createPseudonymizer } from '../src/kernel/crypto.ts';
import { eventIdOf } from '../src/modules/ingest/index.ts';
import {
  cartQuery,
  funnelQuery,
  overviewQuery,
  pathsQuery,
  retentionQuery,
  searchQuery,
} from '../src/modules/analytics/index.ts';
import { openDuckDbEventStore } from '../src/storage/index.ts';
import type { EventRecord, EventStore } from '../src/storage/ports.ts';
import { median, printTable, recordResult } from './support.ts';

const DAY = 86_400_000;
const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const TARGET = Number(arg('events', '10000000'));
const RUNS = Number(arg('runs', '5'));
const FILE = path.resolve(
  arg('file', path.join(os.tmpdir(), `candor-bench-analytics-${TARGET}-pseudonymous-ids.duckdb`)),
);
/** DuckDB's buffer pool would otherwise grow to 80 % of RAM; the target is a peak RSS under 2 GB. */
const MEMORY_LIMIT = arg('memory-limit', '1600MB');
const SEED = 20250101;
const START = Date.UTC(2025, 0, 6); // a Monday
const DAYS = 91;
const END = START + DAYS * DAY;

const PRODUCTS = 2_000;
const CATEGORIES = [
  'shoes',
  'shirts',
  'bags',
  'hats',
  'dresses',
  'watches',
  'toys',
  'books',
  'beauty',
  'home',
];
const QUERIES = Array.from({ length: 400 }, (_, i) => `query ${i}`);
const PAGES = ['/', '/sale', '/about', '/blog', '/new', '/help'];

const pseudonym = createPseudonymizer(Buffer.alloc(32, 11).toString('base64'));

/** Seeded shop: shoppers with 1–6 sessions each; sessions browse, search, cart, buy, review and leave pages. */
async function generate(events: EventStore): Promise<number> {
  const rng = createRng(SEED);
  const productZipf = createZipf(PRODUCTS);
  const queryZipf = createZipf(QUERIES.length);
  const price = Array.from({ length: PRODUCTS }, () => Math.round((5 + rng.next() * 195) * 100) / 100);
  let batch: EventRecord[] = [];
  let total = 0;
  let seq = 0;
  for (let s = 0; total + batch.length < TARGET; s++) {
    // Ids as ingestion stores them: 32-character pseudonyms (HMAC, base64url) for shoppers and sessions, and
    // event ids made by ingestion's own `eventIdOf` (UUID form, from a message id). Short ids would
    // flatter every query: DuckDB keeps strings of up to 12 bytes inline, and hashes and compares them cheaply.
    const subjectId = pseudonym('device', `shopper-${s}`);
    const device = rng.weighted([
      ['mobile', 6],
      ['desktop', 3],
      ['tablet', 1],
    ] as const);
    const country = rng.weighted([
      ['ID', 7],
      ['SG', 1],
      ['MY', 1],
      ['TW', 1],
    ] as const);
    const utm = rng.chance(0.5) ? null : rng.pick(['google', 'newsletter', 'instagram', 'tiktok']);
    const firstDay = rng.int(0, DAYS - 1);
    const sessions = 1 + rng.poisson(1.2);
    for (let k = 0; k < sessions; k++) {
      const day = Math.min(DAYS - 1, firstDay + k * rng.int(0, 14));
      const sessionId = pseudonym('session', `shopper-${s}-${k}`);
      let t = START + day * DAY + rng.int(0, 22 * 3_600_000);
      const push = (type: string, f: Partial<EventRecord> = {}, props = '{}') => {
        t += 1_000 + rng.int(0, 240_000);
        batch.push({
          eventId: eventIdOf('src_bench', `bench-event-${seq++}`),
          sourceId: 'src_bench',
          subjectId,
          anonymousId: subjectId,
          userId: null,
          sessionId,
          type,
          purpose: 'analytics',
          consentId: 'cns_bench',
          ts: t,
          receivedAt: t,
          path: null,
          referrer: null,
          productId: null,
          category: null,
          query: null,
          orderId: null,
          revenue: null,
          currency: null,
          quantity: null,
          deviceClass: device,
          country,
          region: null,
          utmSource: k === 0 ? utm : null,
          props,
          ...f,
        });
      };
      const leave = (f: Partial<EventRecord>) =>
        push('page_leave', f, `{"engagedMs":${rng.int(500, 180_000)},"scrollDepth":${rng.int(0, 100)}}`);
      const landing = rng.pick(PAGES);
      push('page_view', { path: landing });
      if (rng.chance(0.6)) leave({ path: landing });
      const cart: number[] = [];
      const steps = 1 + rng.poisson(2.5);
      for (let i = 0; i < steps; i++) {
        const r = rng.next();
        if (r < 0.45) {
          const p = productZipf.sample(rng);
          const f = {
            path: `/products/p${p}`,
            productId: `p${p}`,
            category: CATEGORIES[p % CATEGORIES.length]!,
          };
          push('product_view', f);
          if (rng.chance(0.5)) leave(f);
          if (rng.chance(0.25)) {
            const quantity = 1 + rng.poisson(0.3);
            push('add_to_cart', {
              productId: f.productId,
              category: f.category,
              quantity,
              revenue: price[p]! * quantity,
              currency: 'IDR',
            });
            cart.push(p);
          }
        } else if (r < 0.65) {
          const q = QUERIES[queryZipf.sample(rng)]!;
          const zero = rng.chance(0.08);
          push('search', { query: q }, `{"resultsCount":${zero ? 0 : rng.int(1, 60)}}`);
          if (!zero && rng.chance(0.55)) {
            const p = productZipf.sample(rng);
            push('search_click', { query: q, productId: `p${p}` }, `{"position":${1 + rng.geometric(0.35)}}`);
          }
        } else if (r < 0.85) {
          push('page_view', { path: rng.pick(PAGES) });
        } else if (r < 0.92 && cart.length > 0) {
          const p = cart.pop()!;
          push('remove_from_cart', {
            productId: `p${p}`,
            category: CATEGORIES[p % CATEGORIES.length]!,
            quantity: 1,
            revenue: price[p]!,
            currency: 'IDR',
          });
        } else if (r < 0.95) {
          const p = productZipf.sample(rng);
          push(
            'review_submitted',
            { productId: `p${p}`, category: CATEGORIES[p % CATEGORIES.length]! },
            `{"rating":${rng.int(1, 5)}}`,
          );
        }
      }
      if (cart.length > 0 && rng.chance(0.45)) {
        push('checkout_started');
        if (rng.chance(0.8)) {
          const revenue = Math.round(cart.reduce((a, p) => a + price[p]!, 0) * 100) / 100;
          push(
            'order_completed',
            { orderId: `o_${s.toString(36)}_${k}`, revenue, currency: 'IDR' },
            `{"items":${cart.length}}`,
          );
        }
      }
    }
    if (batch.length >= 100_000) {
      total += (await events.append(batch)).inserted;
      batch = [];
      if (total % 1_000_000 < 100_000) process.stderr.write(`  ${(total / 1e6).toFixed(1)}M events\r`);
    }
  }
  if (batch.length) total += (await events.append(batch)).inserted;
  return total;
}

type Case = { name: string; ours: () => Promise<unknown>; hand: () => Promise<unknown> };

/** A JSON line the generating child prints last, so the parent can record it. */
type Generated = { events: number; generateSeconds: number; peakRssMiB: number };

const limitMemory = (store: EventStore) => sql.raw(`SET memory_limit = '${MEMORY_LIMIT}'`).execute(store.db);

/**
 * The child process: writes the data file and exits, so the parent's peak RSS is the query phase alone.
 * A live shop's events reach the store in the order they happen, but the generator works shopper by
 * shopper; so it writes through the EventStore port into a scratch file first, and the events are then
 * copied into the bench file in time order (the order live ingestion appends them in).
 */
async function generateFile(): Promise<void> {
  const g = performance.now();
  const scratch = `${FILE}.unordered`;
  for (const f of [FILE, `${FILE}.wal`, scratch, `${scratch}.wal`]) rmSync(f, { force: true });
  const staging = await openDuckDbEventStore({ file: scratch });
  await limitMemory(staging);
  console.error(`generating ${TARGET.toLocaleString()} events into ${FILE}`);
  const generated = await generate(staging);
  await staging.close();
  const events = await openDuckDbEventStore({ file: FILE });
  await limitMemory(events);
  await sql.raw(`ATTACH '${scratch}' AS unordered (READ_ONLY)`).execute(events.db);
  await sql.raw(`INSERT INTO events SELECT * FROM unordered.events ORDER BY ts, event_id`).execute(events.db);
  await sql.raw(`DETACH unordered`).execute(events.db);
  await events.compact();
  const count = await events.count();
  await events.close();
  for (const f of [scratch, `${scratch}.wal`]) rmSync(f, { force: true });
  if (count !== generated) throw new Error(`copied ${count} of ${generated} events`);
  const out: Generated = {
    events: count,
    generateSeconds: (performance.now() - g) / 1000,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  process.stderr.write('\n');
  console.log(JSON.stringify(out));
}

async function storedEvents(): Promise<number> {
  if (!existsSync(FILE)) return 0;
  const events = await openDuckDbEventStore({ file: FILE });
  try {
    return await events.count();
  } finally {
    await events.close();
  }
}

function generateInChild(): Generated {
  const child = spawnSync(process.execPath, [process.argv[1]!, ...args, '--generate-only'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = (child.stdout ?? '').trim().split('\n');
  if (child.status !== 0) throw new Error(`generating the data file failed (exit ${child.status})`);
  return JSON.parse(lines.at(-1) ?? '{}') as Generated;
}

async function main() {
  const t0 = performance.now();
  let generated: Generated | null = null;
  if ((await storedEvents()) < TARGET) {
    generated = generateInChild();
    console.log(
      `  ${generated.events.toLocaleString()} events in ${generated.generateSeconds.toFixed(1)} s (peak RSS ${generated.peakRssMiB} MiB, separate process)`,
    );
  }
  const events = await openDuckDbEventStore({ file: FILE });
  await limitMemory(events);
  const count = await events.count();
  const db = events.db;
  const run = async (q: string) => (await sql.raw(q).execute(db)).rows;

  const cur = { from: END - 28 * DAY, to: END };
  const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  const curSql = `ts >= TIMESTAMP '${iso(cur.from)}' AND ts < TIMESTAMP '${iso(cur.to)}'`;
  const prevSql = `ts >= TIMESTAMP '${iso(cur.from - 28 * DAY)}' AND ts < TIMESTAMP '${iso(cur.from)}'`;
  const cohortRange = { from: END - 12 * 7 * DAY, to: END };

  const cases: Case[] = [
    {
      name: 'overview (28 d + comparison)',
      ours: () => overviewQuery(events, { range: cur }),
      hand: async () => {
        const q = (where: string) => `
          SELECT CAST(ts AS DATE) AS day, count(DISTINCT session_id) AS sessions, count(DISTINCT subject_id) AS shoppers,
            count(DISTINCT session_id) FILTER (WHERE type = 'order_completed') AS converted,
            count(DISTINCT order_id) FILTER (WHERE type = 'order_completed') AS orders,
            sum(revenue) FILTER (WHERE type = 'order_completed') AS revenue
          FROM events WHERE ${where} GROUP BY ROLLUP (CAST(ts AS DATE))`;
        return [await run(q(curSql)), await run(q(prevSql))];
      },
    },
    {
      name: 'funnel 4 steps, by device',
      ours: () =>
        funnelQuery(events, {
          range: cur,
          steps: [
            { type: 'page_view' },
            { type: 'product_view' },
            { type: 'add_to_cart' },
            { type: 'order_completed' },
          ],
          windowMs: 7 * DAY,
          order: 'ordered',
          breakdown: 'device_class',
        }),
      hand: () =>
        run(`
          WITH e AS (SELECT subject_id, type, ts, device_class FROM events
                     WHERE ${curSql} AND type IN ('page_view','product_view','add_to_cart','order_completed')),
          s1 AS (SELECT subject_id, min(ts) AS t1, arg_min(device_class, ts) AS device FROM e WHERE type = 'page_view' GROUP BY subject_id),
          s2 AS (SELECT e.subject_id, min(e.ts) AS t FROM e JOIN s1 USING (subject_id)
                 WHERE e.type = 'product_view' AND e.ts > s1.t1 AND e.ts <= s1.t1 + INTERVAL 7 DAY GROUP BY e.subject_id),
          s3 AS (SELECT e.subject_id, min(e.ts) AS t FROM e JOIN s2 USING (subject_id) JOIN s1 USING (subject_id)
                 WHERE e.type = 'add_to_cart' AND e.ts > s2.t AND e.ts <= s1.t1 + INTERVAL 7 DAY GROUP BY e.subject_id),
          s4 AS (SELECT e.subject_id, min(e.ts) AS t FROM e JOIN s3 USING (subject_id) JOIN s1 USING (subject_id)
                 WHERE e.type = 'order_completed' AND e.ts > s3.t AND e.ts <= s1.t1 + INTERVAL 7 DAY GROUP BY e.subject_id)
          SELECT s1.device, count(*) AS n1, count(s2.t) AS n2, count(s3.t) AS n3, count(s4.t) AS n4,
            median(epoch_ms(s4.t) - epoch_ms(s1.t1)) AS median_ms
          FROM s1 LEFT JOIN s2 USING (subject_id) LEFT JOIN s3 USING (subject_id) LEFT JOIN s4 USING (subject_id)
          GROUP BY ROLLUP (s1.device)`),
    },
    {
      name: 'paths: 3 steps after search',
      ours: () =>
        pathsQuery(events, {
          range: cur,
          anchor: { type: 'search' },
          direction: 'next',
          depth: 3,
          limit: 20,
        }),
      hand: () =>
        run(`
          WITH w AS (
            SELECT subject_id, type,
              lead(CASE WHEN type = 'page_view' THEN path ELSE type END, 1) OVER s AS n1,
              lead(CASE WHEN type = 'page_view' THEN path ELSE type END, 2) OVER s AS n2,
              lead(CASE WHEN type = 'page_view' THEN path ELSE type END, 3) OVER s AS n3
            FROM events WHERE ${curSql} AND type <> 'page_leave'
            WINDOW s AS (PARTITION BY session_id ORDER BY ts, event_id))
          SELECT n1, n2, n3, count(*) AS c, count(DISTINCT subject_id) AS shoppers FROM w WHERE type = 'search'
          GROUP BY GROUPING SETS ((), (n1), (n1, n2, n3)) ORDER BY c DESC LIMIT 60`),
    },
    {
      name: 'search report',
      ours: () => searchQuery(events, { range: cur, limit: 20 }),
      hand: () =>
        run(`
          WITH e AS (SELECT session_id, subject_id, type, lower(trim(query)) AS q, ts,
                       TRY_CAST(json_extract_string(props, '$.resultsCount') AS INTEGER) AS results,
                       TRY_CAST(json_extract_string(props, '$.position') AS INTEGER) AS position
                     FROM events WHERE ${curSql}),
          sess AS (SELECT session_id, max(ts) FILTER (WHERE type <> 'page_leave') AS last_ts,
                     max(ts) FILTER (WHERE type = 'add_to_cart') AS cart_ts, max(ts) FILTER (WHERE type = 'order_completed') AS order_ts
                   FROM e GROUP BY session_id),
          s AS (SELECT * FROM e WHERE type = 'search'),
          pairs AS (SELECT session_id, q, min(ts) AS first_ts FROM s GROUP BY ALL),
          clicks AS (SELECT session_id, q, count(*) AS n, avg(position) AS pos FROM e WHERE type = 'search_click' GROUP BY ALL),
          per_q AS (SELECT q, count(*) AS searches, count(DISTINCT subject_id) AS shoppers,
                      count(*) FILTER (WHERE results = 0) AS zero, count(*) FILTER (WHERE s.ts >= sess.last_ts) AS exits
                    FROM s JOIN sess USING (session_id) GROUP BY q),
          conv AS (SELECT pairs.q, count(*) AS sessions, count(clicks.n) AS clicked, sum(clicks.n) AS clicks,
                     avg(clicks.pos) AS pos, count(*) FILTER (WHERE sess.cart_ts > first_ts) AS carted,
                     count(*) FILTER (WHERE sess.order_ts > first_ts) AS purchased
                   FROM pairs JOIN sess USING (session_id) LEFT JOIN clicks USING (session_id, q) GROUP BY pairs.q)
          SELECT * FROM per_q JOIN conv USING (q) ORDER BY searches DESC`),
    },
    {
      name: 'cart report',
      ours: () => cartQuery(events, { range: cur, limit: 20 }),
      hand: async () => {
        const carts = `
          WITH e AS (SELECT session_id, subject_id, type, product_id, category, ts, coalesce(quantity, 1) AS qty, coalesce(revenue, 0) AS value
                     FROM events WHERE ${curSql} AND type IN ('add_to_cart', 'remove_from_cart', 'order_completed')),
          carts AS (SELECT session_id, any_value(subject_id) AS subject_id,
                      coalesce(max(ts) FILTER (WHERE type = 'order_completed') > min(ts) FILTER (WHERE type = 'add_to_cart'), false) AS bought,
                      greatest(sum(CASE type WHEN 'add_to_cart' THEN qty WHEN 'remove_from_cart' THEN -qty ELSE 0 END), 0) AS size,
                      greatest(sum(CASE type WHEN 'add_to_cart' THEN value WHEN 'remove_from_cart' THEN -value ELSE 0 END), 0) AS value
                    FROM e GROUP BY session_id HAVING count(*) FILTER (WHERE type = 'add_to_cart') > 0)`;
        return Promise.all([
          run(
            `${carts} SELECT count(*), count(*) FILTER (WHERE bought), sum(value) FILTER (WHERE NOT bought), avg(size) FROM carts`,
          ),
          run(`${carts} SELECT least(size, 10) AS s, count(*) FROM carts GROUP BY s`),
          run(
            `${carts} SELECT product_id, count(*), count(*) FILTER (WHERE bought) FROM (SELECT DISTINCT session_id, product_id FROM e WHERE type = 'add_to_cart') JOIN carts USING (session_id) GROUP BY product_id ORDER BY 2 DESC LIMIT 20`,
          ),
          run(
            `${carts} SELECT category, count(*) FROM (SELECT DISTINCT session_id, category FROM e WHERE type = 'add_to_cart') JOIN carts USING (session_id) GROUP BY category ORDER BY 2 DESC LIMIT 20`,
          ),
        ]);
      },
    },
    {
      name: 'retention 12 weeks',
      ours: () =>
        retentionQuery(
          events,
          { range: cohortRange, cohortBy: 'first_visit', period: 'week', periods: 12 },
          END,
        ),
      hand: () =>
        run(`
          WITH f AS (SELECT subject_id, date_trunc('week', min(ts)) AS cohort FROM events GROUP BY subject_id),
          a AS (SELECT DISTINCT subject_id, date_trunc('week', ts) AS wk FROM events WHERE ts >= TIMESTAMP '${iso(cohortRange.from)}')
          SELECT cohort, date_diff('week', cohort, wk) AS k, count(*) AS n
          FROM f JOIN a USING (subject_id)
          WHERE cohort >= TIMESTAMP '${iso(cohortRange.from)}' AND wk >= cohort AND date_diff('week', cohort, wk) < 12
          GROUP BY ALL ORDER BY ALL`),
    },
  ];

  const rows: Record<string, string | number>[] = [];
  const figures: Record<string, unknown>[] = [];
  for (const c of cases) {
    await c.ours();
    await c.hand(); // warm both once
    const ours: number[] = [];
    const hand: number[] = [];
    // CPU time of the process (DuckDB's threads included) beside wall time: on a shared machine the
    // wall time grows with the load, the CPU time much less.
    const oursCpu: number[] = [];
    const handCpu: number[] = [];
    const timed = async (fn: () => Promise<unknown>, wall: number[], cpu: number[]) => {
      const c0 = process.cpuUsage();
      const t = performance.now();
      await fn();
      wall.push(performance.now() - t);
      const used = process.cpuUsage(c0);
      cpu.push((used.user + used.system) / 1000);
    };
    for (let i = 0; i < RUNS; i++) {
      await timed(c.ours, ours, oursCpu);
      await timed(c.hand, hand, handCpu);
    }
    const o = median(ours);
    const h = median(hand);
    figures.push({
      query: c.name,
      oursMs: ours.map((x) => Math.round(x)),
      handMs: hand.map((x) => Math.round(x)),
      oursMedianMs: Math.round(o),
      handMedianMs: Math.round(h),
      ratio: Math.round((o / h) * 100) / 100,
      oursCpuMedianMs: Math.round(median(oursCpu)),
      handCpuMedianMs: Math.round(median(handCpu)),
    });
    rows.push({
      query: c.name,
      'ours ms': Math.round(o),
      'hand SQL ms': Math.round(h),
      ratio: (o / h).toFixed(2),
      'ours cpu ms': Math.round(median(oursCpu)),
      'hand cpu ms': Math.round(median(handCpu)),
      '<1 s': o < 1000 ? 'yes' : 'no',
      '≤1.5×': o <= 1.5 * h ? 'yes' : 'no',
    });
  }
  const peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  printTable(rows);
  console.log(
    `events: ${count.toLocaleString()} · runs: ${RUNS} · peak RSS: ${peakRssMiB} MiB · total ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const file = recordResult('analytics', {
    events: count,
    runs: RUNS,
    store: 'duckdb',
    duckdbMemoryLimit: MEMORY_LIMIT,
    loadAverage: os.loadavg(),
    dataFile: FILE,
    // See generateFile: the events are stored in time order, as live ingestion appends them.
    layout: 'time order',
    ids: '32-character pseudonyms for shoppers and sessions, UUID-form event ids (as ingestion stores them)',
    derivedTables: 'none: every query, ours and hand-written, reads the raw events table',
    reusedDataFile: generated === null,
    generateSeconds: generated?.generateSeconds ?? null,
    generatePeakRssMiB: generated?.peakRssMiB ?? null,
    peakRssMiB,
    targets: { eachUnderMs: 1000, maxRatioToHandSql: 1.5, peakRssUnderMiB: 2048 },
    figures,
  });
  console.log(`recorded ${file}`);
  await events.close();
}

if (args.includes('--generate-only')) await generateFile();
else await main();
