// `npm run bench -- recommend [--requests N] [--demo-shoppers N]`
// Recommendation serving and training on two shops: the demo shop (generated, loaded through Candor) and
// UCI Online Retail (../shared/data, orders as order_completed events, StockCode/Description as the
// catalogue). Serving: N requests, 50 at a time, over for-you / similar / bought-together with MMR
// re-ranking and stock/bought/feedback filters. Training: the full hybrid model (EASE, item-kNN,
// bought-together, content, sequential rules, V-SKNN sessions). Records bench/results/recommend.json.
import { createReadStream, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { loadDemoInto } from '../src/cli/demo.command.ts';
import { testConfig } from '../src/kernel/config.ts';
import { createLogger } from '../src/kernel/logger.ts';
import { createCandor } from '../src/server/index.ts';
import { createCatalogModule } from '../src/modules/catalog/index.ts';
import {
  createRecommendModule,
  parseTime,
  seededRandom,
  type RecommendModule,
  type Surface,
} from '../src/modules/recommend/index.ts';
import { openStores } from '../src/storage/index.ts';
import type { EventRecord } from '../src/storage/ports.ts';
import { makeTempDir } from '../src/storage/testing.ts';
import { percentile, printTable, recordResult } from './support.ts';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const REQUESTS = Number(arg('requests', '2000'));
const DEMO_SHOPPERS = Number(arg('demo-shoppers', '1000'));
const CONCURRENCY = 50;
const RETAIL = path.resolve(import.meta.dirname, '../../shared/data/online-retail-uci/online-retail.csv.gz');
const logger = createLogger({ level: 'silent' });
const noGuard = {
  staff: () => async (_c: unknown, next: () => Promise<void>) => next(),
  shopper: async (_c: unknown, next: () => Promise<void>) => next(),
  writeKey: async (_c: unknown, next: () => Promise<void>) => next(),
};

// The machine's 1-minute load average around each phase: on shared cores it explains most of the spread.
const loadAverage = () => Math.round(os.loadavg()[0]! * 10) / 10;
const loadAtStart = loadAverage();
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);

async function serve(module: RecommendModule, subjects: string[], items: string[]) {
  const rnd = seededRandom(11);
  const surfaces: Surface[] = ['for-you', 'for-you', 'similar', 'bought-together'];
  const latencies: number[] = [];
  const t0 = performance.now();
  for (let done = 0; done < REQUESTS; done += CONCURRENCY) {
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, REQUESTS - done) }, async () => {
        const surface = surfaces[Math.floor(rnd() * surfaces.length)]!;
        const subject = subjects[Math.floor(rnd() * subjects.length)]!;
        const item = items[Math.floor(rnd() * items.length)]!;
        const s = performance.now();
        await module.service.recommend({
          surface,
          subjectIds: [subject],
          limit: 10,
          ...(surface === 'for-you' ? {} : { itemId: item }),
        });
        latencies.push(performance.now() - s);
      }),
    );
  }
  const seconds = (performance.now() - t0) / 1000;
  const loadDuringServing = loadAverage();
  // The same mix one at a time: the service time of one request, without queueing behind 49 others.
  const single: number[] = [];
  for (let x = 0; x < Math.min(500, REQUESTS); x++) {
    const surface = surfaces[x % surfaces.length]!;
    const s = performance.now();
    await module.service.recommend({
      surface,
      subjectIds: [subjects[x % subjects.length]!],
      limit: 10,
      ...(surface === 'for-you' ? {} : { itemId: items[x % items.length]! }),
    });
    single.push(performance.now() - s);
  }
  await module.service.flush();
  return {
    sequentialP50Ms: round(percentile(single, 50)),
    sequentialP95Ms: round(percentile(single, 95)),
    requests: latencies.length,
    concurrency: CONCURRENCY,
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    requestsPerSecond: Math.round(latencies.length / seconds),
    loadAverageServing: loadDuringServing,
  };
}
const round = (v: number) => Math.round(v * 100) / 100;

async function onlineRetail() {
  const dir = makeTempDir('candor-bench-recommend');
  const stores = await openStores(testConfig(path.join(dir.path, 'data')));
  try {
    const clockNow = Date.UTC(2011, 11, 10);
    const clock = { now: () => new Date(clockNow) };
    const catalog = createCatalogModule({ state: stores.state, guards: noGuard, logger, clock });
    const module = createRecommendModule(
      {
        state: stores.state,
        events: stores.events,
        catalog: catalog.service,
        personalisation: { isPersonalised: async () => true },
        subjectsOf: () => [],
        guards: noGuard,
        clock,
        logger,
      },
      { trainEveryMs: 0, trainingWindowDays: 400 },
    );
    await stores.state.migrate({ ...catalog.migrations, ...module.migrations! });
    const products = new Map<string, { title: string; price: number }>();
    const events: EventRecord[] = [];
    const lines = createInterface({
      input: createReadStream(RETAIL).pipe(createGunzip()),
      crlfDelay: Infinity,
    });
    let n = 0;
    for await (const line of lines) {
      if (n++ === 0) continue;
      const f = line
        .match(/("([^"]|"")*"|[^,]*)(,|$)/g)!
        .map((x) => x.replace(/,$/, '').replace(/^"|"$/g, ''));
      const [invoice, code, description, quantity, date, price, customer] = f;
      if (!code || !customer || Number(quantity) <= 0 || invoice!.startsWith('C')) continue;
      if (!products.has(code))
        products.set(code, {
          title: (description || code).slice(0, 200),
          price: Math.max(0, Math.round(Number(price) * 100)),
        });
      const ts = parseTime(date!);
      events.push({
        eventId: `or-${n}`,
        sourceId: 'retail',
        subjectId: `c${customer}`,
        anonymousId: null,
        userId: `c${customer}`,
        sessionId: `inv-${invoice}`,
        type: 'order_completed',
        purpose: 'necessary',
        consentId: null,
        ts,
        receivedAt: ts,
        path: null,
        referrer: null,
        productId: code,
        category: null,
        query: null,
        orderId: invoice!,
        revenue: null,
        currency: 'GBP',
        quantity: Number(quantity),
        deviceClass: null,
        country: null,
        region: null,
        utmSource: null,
        props: '{}',
      });
    }
    const list = [...products].map(([id, p]) => ({
      id,
      title: { en: p.title },
      categoryPath: [],
      brand: null,
      price: p.price,
      currency: 'GBP',
      stock: 10,
      attributes: {},
      active: true,
    }));
    for (let i = 0; i < list.length; i += 1000) await catalog.service.upsertProducts(list.slice(i, i + 1000));
    for (let i = 0; i < events.length; i += 50_000) await stores.events.append(events.slice(i, i + 50_000));
    const t0 = performance.now();
    const trained = await module.service.train();
    const trainSeconds = round((performance.now() - t0) / 1000);
    const loadAverageTraining = loadAverage();
    const subjects = [...new Set(events.map((e) => e.subjectId))];
    const serving = await serve(module, subjects, [...products.keys()]);
    return {
      shop: 'online-retail',
      events: events.length,
      items: products.size,
      subjects: subjects.length,
      trainSeconds,
      loadAverageTraining,
      model: trained.stats,
      ...serving,
    };
  } finally {
    await stores.close();
    dir.cleanup();
  }
}

async function demoShop() {
  const dir = makeTempDir('candor-bench-recommend-demo');
  const candor = await createCandor(testConfig(path.join(dir.path, 'data')), { logger, jobs: false });
  try {
    await loadDemoInto(
      candor,
      { shoppers: DEMO_SHOPPERS, days: 30, seed: 42, products: 1000 },
      { out: () => undefined, say: () => undefined },
    );
    const module = candor.modules.find((m) => m.name === 'recommend') as RecommendModule;
    const t0 = performance.now();
    const trained = await module.service.train();
    const trainSeconds = round((performance.now() - t0) / 1000);
    const loadAverageTraining = loadAverage();
    const rows = await candor.stores.events.db
      .selectFrom('events')
      .select('subject_id')
      .distinct()
      .limit(5000)
      .execute();
    const items = await candor.stores.events.db
      .selectFrom('events')
      .select('product_id')
      .where('product_id', 'is not', null)
      .distinct()
      .limit(5000)
      .execute();
    const serving = await serve(
      module,
      rows.map((r) => r.subject_id),
      items.map((r) => r.product_id!),
    );
    return {
      shop: `demo (${DEMO_SHOPPERS} shoppers, 30 days, 1000 products)`,
      events: trained.stats.events,
      items: trained.stats.items,
      subjects: trained.stats.subjects,
      trainSeconds,
      loadAverageTraining,
      model: trained.stats,
      ...serving,
    };
  } finally {
    await candor.close();
    dir.cleanup();
  }
}

const results = [await demoShop()];
if (existsSync(RETAIL)) results.push(await onlineRetail());
else console.error(`skipping Online Retail: ${RETAIL} not found (it lives in ../shared/data)`);
clearInterval(sampler);
const peakRssMiB = Math.round(Math.max(peakRss, process.memoryUsage.rss()) / 2 ** 20);
printTable(
  results.map((r) => ({
    shop: r.shop,
    events: r.events,
    items: r.items,
    'train s': r.trainSeconds,
    p50: r.p50Ms,
    p95: r.p95Ms,
    p99: r.p99Ms,
    'req/s': r.requestsPerSecond,
    'p95 @1': r.sequentialP95Ms,
    'load (train/serve)': `${r.loadAverageTraining}/${r.loadAverageServing}`,
  })),
);
console.log(`peak RSS ${peakRssMiB} MiB; load average ${loadAtStart} at start, ${loadAverage()} at the end`);
console.log(
  `wrote ${recordResult('recommend', {
    targets: { p95Ms: 10, trainSeconds: 30 },
    loadAverage: { start: loadAtStart, end: loadAverage() },
    results,
    peakRssMiB,
  })}`,
);
