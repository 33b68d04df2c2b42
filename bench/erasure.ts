// `npm run bench -- erasure [--shoppers N] [--events N] [--samples K] [--dir PATH] [--build-only]`
// A demo shop on the embedded default (SQLite state + DuckDB events) with ≥ 100,000 known shoppers (consent,
// sealed identifiers, a linked device) and ≥ 5M events spread over 90 days, then the median and p95 time to
// export one shopper and to fully erase one (the real erasure flow: crypto-shredding, every holder, DuckDB
// compaction, signed receipt), over K shoppers each, in the same run. Above 500,000 events the erasure's
// receipt says the physical purge is "scheduled" (decision 0005), so the benchmark then runs that purge (the
// hourly `events.purge` job: one rewrite of the event file covering every pending erasure) and times it.
// It scans every byte of the data directory for the erased shoppers' pseudonyms before and after the purge.
// Records bench/results/erasure.json.
//
// The built data directory is cached under the OS temp dir, keyed by the parameters, so a re-run skips the
// build; each run erases shoppers that no earlier run erased.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRng } from '../src/flows/demo/index.ts';
import { generateSecrets, testConfig } from '../src/kernel/config.ts';
import { sql } from 'kysely';
import { createPseudonymizer } from '../src/kernel/crypto.ts';
import { DEFAULT_NOTICE_VERSION, type ConsentModule } from '../src/modules/consent/index.ts';
import { bundleToTar, type PrivacyModule } from '../src/modules/privacy/index.ts';
import type { ProfilesModule } from '../src/modules/profiles/index.ts';
import { createCandor, type Candor } from '../src/server/index.ts';
import { median, percentile, printTable, recordResult } from './support.ts';

const DAY = 86_400_000;
const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const SHOPPERS = Number(arg('shoppers', '100000'));
const EVENTS = Number(arg('events', '5000000'));
const SAMPLES = Number(arg('samples', '12'));
const SEED = 20260401;
const DIR = path.resolve(
  arg('dir', path.join(os.tmpdir(), `candor-bench-erasure-s${SHOPPERS}-e${EVENTS}-seed${SEED}`)),
);
const MARKER = path.join(DIR, 'bench-built.json');
const DATA = path.join(DIR, 'data');
const START = Date.UTC(2026, 0, 5);
const DAYS = 90;
const TYPES = [
  ['page_view', 40],
  ['product_view', 30],
  ['search', 8],
  ['add_to_cart', 8],
  ['product_list_view', 8],
  ['checkout_started', 3],
  ['order_completed', 2],
  ['review_submitted', 1],
] as const;
const CATEGORIES = ['electronics', 'fashion', 'home', 'beauty', 'sports', 'books', 'toys', 'food'];

type Built = { secrets: Record<string, string>; shoppers: number; events: number; buildSeconds: number };

const customerId = (i: number) => `bench-cust-${i}`;
const deviceId = (i: number) => `bench-dev-${i}`;

function open(secrets: Record<string, string>): Promise<Candor> {
  const config = testConfig(DATA, { secrets, logLevel: 'silent' });
  return createCandor(config, { jobs: false });
}

function modules(candor: Candor) {
  const mod = <T>(name: string) => candor.modules.find((m) => m.name === name) as T;
  return {
    consent: mod<ConsentModule>('consent'),
    profiles: mod<ProfilesModule>('profiles'),
    privacy: mod<PrivacyModule>('privacy'),
  };
}

function progress(label: string, done: number, total: number, t0: number) {
  const s = (performance.now() - t0) / 1000;
  process.stdout.write(
    `\r${label}: ${done.toLocaleString('en')} / ${total.toLocaleString('en')} (${Math.round(done / Math.max(s, 0.001)).toLocaleString('en')}/s)   `,
  );
  if (done >= total) process.stdout.write('\n');
}

/** Shoppers through the modules' own services: consent ledger, sealed identifiers, the identity link. */
async function buildShoppers(candor: Candor, pseudo: (ns: string, v: string) => string): Promise<void> {
  const { consent, profiles } = modules(candor);
  const t0 = performance.now();
  for (let i = 0; i < SHOPPERS; i++) {
    const user = pseudo('user', customerId(i));
    const device = pseudo('device', deviceId(i));
    await consent.service.record({
      subjectIds: [user, device],
      purposes: { analytics: true, personalization: true },
      noticeVersion: DEFAULT_NOTICE_VERSION,
      method: 'banner',
      locale: 'en',
      channel: null,
      actor: 'system:bench',
      decidedAt: START - DAY,
    });
    await profiles.storeIdentifiers(user, {
      email: `shopper${i}@example.test`,
      phone: `+62 800 ${String(i).padStart(7, '0')}`,
      name: `Bench Shopper ${i}`,
      address: `${i} Jalan Contoh, Jakarta`,
    });
    await profiles.identity.link({ userId: user, anonymousId: device });
    if (i % 1000 === 999 || i === SHOPPERS - 1) progress('shoppers', i + 1, SHOPPERS, t0);
  }
}

/**
 * Events in time order, as ingestion appends them: each shopper's ~50 events are spread over the whole
 * period, so they sit in many row groups (the hard case for deleting one shopper). Generated inside DuckDB
 * through the event store's query layer on one connection: the shoppers' pseudonyms go into a TEMP table
 * (memory only, never in the file), and one ordered INSERT writes the rows (appending 5M rows from
 * JavaScript takes longer than the whole benchmark on this machine kind).
 */
async function buildEvents(candor: Candor, pseudo: (ns: string, v: string) => string): Promise<void> {
  const t0 = performance.now();
  const span = DAYS * DAY;
  const weights = TYPES.reduce((n, [, w]) => n + w, 0);
  let acc = 0;
  const typeCase = sql.raw(
    `CASE ${TYPES.map(([t, w]) => {
      acc += w;
      return `WHEN r_type < ${acc} THEN '${t}'`;
    }).join(' ')} END`,
  );
  const categories = sql.raw(`['${CATEGORIES.join("','")}']`);
  await candor.stores.events.db.connection().execute(async (db) => {
    await sql`CREATE OR REPLACE TEMP TABLE bench_shoppers (i INTEGER, u VARCHAR, d VARCHAR)`.execute(db);
    for (let from = 0; from < SHOPPERS; from += 2000) {
      const rows = [];
      for (let i = from; i < Math.min(SHOPPERS, from + 2000); i++)
        rows.push(sql`(${i}, ${pseudo('user', customerId(i))}, ${pseudo('device', deviceId(i))})`);
      await sql`INSERT INTO bench_shoppers VALUES ${sql.join(rows)}`.execute(db);
    }
    await sql`
      INSERT INTO events (event_id, source_id, subject_id, anonymous_id, user_id, session_id, type, purpose,
        consent_id, ts, received_at, path, referrer, product_id, category, query, order_id, revenue, currency,
        quantity, device_class, country, region, utm_source, props)
      SELECT 'ev-' || k, 'src_bench', CASE WHEN identified THEN s.u ELSE s.d END, s.d,
        CASE WHEN identified THEN s.u END, 'ses-' || md5(s.i::VARCHAR || '-' || (k * ${span} // ${EVENTS} // ${DAY})::VARCHAR),
        type, CASE WHEN type = 'order_completed' THEN 'necessary' ELSE 'analytics' END, NULL,
        ts, ts + INTERVAL 150 MILLISECOND,
        CASE WHEN type = 'page_view' THEN '/c/' || category ELSE '/p/p' || product END, NULL,
        CASE WHEN type IN ('page_view', 'search') THEN NULL ELSE 'p' || product END, category,
        CASE WHEN type = 'search' THEN 'query ' || (product % 400) END,
        CASE WHEN type = 'order_completed' THEN 'o-' || k END,
        CASE WHEN type = 'order_completed' THEN 50000 + (hash(k, 'rev') % 1950000)::BIGINT END,
        CASE WHEN type = 'order_completed' THEN 'IDR' END,
        CASE WHEN type IN ('add_to_cart', 'order_completed') THEN 1 + (product % 3) END,
        ${sql.raw("['mobile','desktop','tablet']")}[1 + (hash(k, 'dev') % 3)::BIGINT], 'ID', NULL, NULL, '{}'
      FROM (
        SELECT k, (hash(k, ${SEED}) % ${SHOPPERS})::BIGINT AS si, (hash(k, 'id') % 10)::BIGINT < 7 AS identified,
          ${typeCase} AS type, 1 + (hash(k, 'p') % 3000)::BIGINT AS product,
          ${categories}[1 + (hash(k, 'c') % ${CATEGORIES.length})::BIGINT] AS category,
          epoch_ms(${START}::BIGINT + k * ${span} // ${EVENTS}) AS ts
        FROM (SELECT range AS k, (hash(range, 't') % ${weights})::BIGINT AS r_type FROM range(${EVENTS}))
      ) g JOIN bench_shoppers s ON s.i = g.si
      ORDER BY ts, k`.execute(db);
    await sql`DROP TABLE bench_shoppers`.execute(db);
  });
  await candor.stores.events.compact();
  progress('events', await candor.stores.events.count(), EVENTS, t0);
}

/** Phases leave markers, so an interrupted build resumes at the phase it was in. */
async function build(): Promise<Built> {
  const secretsFile = path.join(DIR, 'bench-secrets.json');
  const shoppersDone = path.join(DIR, 'bench-shoppers-built');
  if (!existsSync(secretsFile)) {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    writeFileSync(secretsFile, JSON.stringify(generateSecrets()), { mode: 0o600 });
  }
  const secrets = JSON.parse(readFileSync(secretsFile, 'utf8')) as Record<string, string>;
  const pseudo = createPseudonymizer(secrets.pseudonymKey!);
  const t0 = performance.now();
  if (!existsSync(shoppersDone)) {
    rmSync(DATA, { recursive: true, force: true });
    const candor = await open(secrets);
    try {
      // The build is a cache, rebuilt when incomplete: one fsync per shopper would take hours here.
      await sql`pragma synchronous = OFF`.execute(candor.stores.state.db);
      await buildShoppers(candor, pseudo);
    } finally {
      await candor.close();
    }
    writeFileSync(shoppersDone, '');
  }
  // The events phase starts from an empty event store.
  rmSync(path.join(DATA, 'events.duckdb'), { force: true });
  rmSync(path.join(DATA, 'events.duckdb.wal'), { force: true });
  const candor = await open(secrets);
  try {
    await buildEvents(candor, pseudo);
  } finally {
    await candor.close();
  }
  const built: Built = {
    secrets,
    shoppers: SHOPPERS,
    events: EVENTS,
    buildSeconds: Math.round((performance.now() - t0) / 100) / 10,
  };
  writeFileSync(MARKER, JSON.stringify(built), { mode: 0o600 });
  return built;
}

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

function scan(dir: string, needles: readonly string[]): { file: string; needle: string }[] {
  const hits: { file: string; needle: string }[] = [];
  for (const file of allFiles(dir)) {
    const bytes = readFileSync(file);
    for (const n of needles) if (bytes.includes(n)) hits.push({ file: path.basename(file), needle: n });
  }
  return hits;
}

async function main(): Promise<void> {
  const loadAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const cached = existsSync(MARKER);
  const built: Built = cached ? (JSON.parse(readFileSync(MARKER, 'utf8')) as Built) : await build();
  console.log(
    cached ? `reusing ${DIR} (built in ${built.buildSeconds} s)` : `built ${DIR} in ${built.buildSeconds} s`,
  );
  if (args.includes('--build-only')) return;
  const pseudo = createPseudonymizer(built.secrets.pseudonymKey!);
  const candor = await open(built.secrets);
  const { profiles, privacy } = modules(candor);
  const eventsBefore = await candor.stores.events.count();

  // Shoppers no earlier run erased (their data key still exists), drawn at random across the shop.
  const rng = createRng(Date.now() % 2 ** 31);
  const picked = new Set<number>();
  const candidates: number[] = [];
  while (candidates.length < SAMPLES * 2 && picked.size < SHOPPERS) {
    const i = rng.int(0, SHOPPERS - 1);
    if (picked.has(i)) continue;
    picked.add(i);
    if ((await profiles.vault.keyIdOf(pseudo('user', customerId(i)))) !== null) candidates.push(i);
  }
  const exportees = candidates.slice(0, SAMPLES);
  const erasees = candidates.slice(SAMPLES);

  const exportMs: number[] = [];
  let exportedEvents = 0;
  let exportBytes = 0;
  for (const i of exportees) {
    const t = performance.now();
    const subject = await profiles.resolveSubject(pseudo('user', customerId(i)), true);
    const { bundle } = await privacy.service.runAsOperator('export', subject, 'gdpr');
    const tar = bundleToTar(bundle!);
    exportMs.push(performance.now() - t);
    const doc = bundle!.document as { sections: Record<string, { tables: Record<string, unknown[]> }> };
    exportedEvents += doc.sections['event-store']?.tables.events?.length ?? 0;
    exportBytes += tar.length;
  }

  // Where an erasure's time goes: the event store's delete and its compaction (FORCE CHECKPOINT), timed by
  // wrapping the store's functions the erasure flow calls.
  const timing = { deleteMs: [] as number[], compactMs: [] as number[] };
  const events = candor.stores.events;
  const timed =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>, into: number[]) =>
    async (...a: A): Promise<R> => {
      const t = performance.now();
      try {
        return await fn(...a);
      } finally {
        into.push(performance.now() - t);
      }
    };
  Object.assign(events, {
    deleteSubjects: timed(events.deleteSubjects.bind(events), timing.deleteMs),
    compact: timed(events.compact.bind(events), timing.compactMs),
  });

  const eraseMs: number[] = [];
  let erasedEvents = 0;
  const needles: string[] = [];
  const purgeStates: Record<string, number> = {};
  const purgeByLeadMs: number[] = [];
  for (const i of erasees) {
    const t = performance.now();
    const subject = await profiles.resolveSubject(pseudo('user', customerId(i)), true);
    const { erasure } = await privacy.service.runAsOperator('erase', subject, 'gdpr');
    eraseMs.push(performance.now() - t);
    if (erasure?.status !== 'completed' || !erasure.receipt)
      throw new Error(`erasure of shopper ${i} did not complete: ${JSON.stringify(erasure?.targets)}`);
    erasedEvents += erasure.receipt.targets.find((x) => x.target === 'holder:event-store')?.deleted ?? 0;
    const ep = erasure.receipt.eventPurge;
    purgeStates[ep?.status ?? 'none'] = (purgeStates[ep?.status ?? 'none'] ?? 0) + 1;
    if (ep?.status === 'scheduled') purgeByLeadMs.push(ep.purgeBy - erasure.receipt.completedAt);
    needles.push(pseudo('user', customerId(i)), pseudo('device', deviceId(i)));
  }
  const eventsAfter = await candor.stores.events.count();
  await candor.close();
  // What "scheduled" means until the purge job runs: deleted rows, bytes still in the event file.
  const residualBeforePurge = scan(DATA, needles);

  // The scheduled purge, as the hourly job runs it: one rewrite of the event file for every pending erasure.
  const again = await open(built.secrets);
  const { privacy: privacyAgain } = modules(again);
  const pendingBefore = (await privacyAgain.purges.pending()).length;
  const bytesBeforePurge = allFiles(DATA).reduce((n, f) => n + statSync(f).size, 0);
  const tPurge = performance.now();
  const { purged } = await privacyAgain.purges.runScheduled();
  const purgeMs = performance.now() - tPurge;
  await again.close();
  const residual = scan(DATA, needles);
  const dataBytes = allFiles(DATA).reduce((n, f) => n + statSync(f).size, 0);

  const round = (x: number) => Math.round(x);
  const rows = [
    {
      operation: 'export one shopper',
      samples: exportMs.length,
      'median ms': round(median(exportMs)),
      'p95 ms': round(percentile(exportMs, 95)),
      'target ms': 2000,
      'events per shopper': Math.round(exportedEvents / Math.max(1, exportMs.length)),
      'of which': `tar ${Math.round(exportBytes / Math.max(1, exportMs.length) / 1024)} KiB`,
    },
    {
      operation: 'erase one shopper',
      samples: eraseMs.length,
      'median ms': round(median(eraseMs)),
      'p95 ms': round(percentile(eraseMs, 95)),
      'target ms': 5000,
      'events per shopper': Math.round(erasedEvents / Math.max(1, eraseMs.length)),
      'of which': `events delete ${round(median(timing.deleteMs))} ms, compact ${round(median(timing.compactMs))} ms (medians); receipts ${JSON.stringify(purgeStates)}`,
    },
    {
      operation: 'physical purge (events.purge job)',
      samples: 1,
      'median ms': round(purgeMs),
      'p95 ms': round(purgeMs),
      'target ms': 2 * 60 * 60 * 1000,
      'events per shopper': '-',
      'of which': `one rewrite for ${purged} pending erasures (${pendingBefore} pending before); ${(bytesBeforePurge / 2 ** 20).toFixed(0)} → ${(dataBytes / 2 ** 20).toFixed(0)} MiB`,
    },
  ];
  console.log(
    `\n${SHOPPERS.toLocaleString('en')} shoppers, ${eventsBefore.toLocaleString('en')} events, data dir ${(dataBytes / 2 ** 20).toFixed(0)} MiB`,
  );
  printTable(rows);
  console.log(
    `residual scan after erasure, before the purge: ${residualBeforePurge.length} hits for ${needles.length} pseudonyms` +
      (residualBeforePurge.length > 0
        ? ` (${[...new Set(residualBeforePurge.map((r) => r.file))].join(', ')}): rows deleted, bytes waiting for the scheduled purge`
        : ''),
  );
  console.log(
    `residual scan after the purge: ${residual.length} hits for ${needles.length} pseudonyms in ${allFiles(DATA).length} files` +
      (residual.length > 0 ? ` (${[...new Set(residual.map((r) => r.file))].join(', ')})` : ''),
  );
  const file = recordResult('erasure', {
    params: { shoppers: SHOPPERS, events: EVENTS, samples: SAMPLES, seed: SEED },
    dataset: {
      dir: DIR,
      reused: cached,
      buildSeconds: built.buildSeconds,
      eventsBefore,
      eventsAfter,
      dataMiB: Math.round(dataBytes / 2 ** 20),
    },
    export: {
      medianMs: round(median(exportMs)),
      p95Ms: round(percentile(exportMs, 95)),
      samplesMs: exportMs.map(round),
      targetMs: 2000,
      meanTarKiB: Math.round(exportBytes / Math.max(1, exportMs.length) / 1024),
    },
    erase: {
      medianMs: round(median(eraseMs)),
      p95Ms: round(percentile(eraseMs, 95)),
      samplesMs: eraseMs.map(round),
      targetMs: 5000,
      eventsDeleted: erasedEvents,
      eventStoreDeleteMs: timing.deleteMs.map(round),
      eventStoreCompactMs: timing.compactMs.map(round),
      receiptEventPurge: purgeStates,
      scheduledPurgeByMs: purgeByLeadMs.length > 0 ? round(median(purgeByLeadMs)) : null,
    },
    purge: {
      ms: round(purgeMs),
      erasuresCovered: purged,
      pendingBefore,
      dataMiBBefore: Math.round(bytesBeforePurge / 2 ** 20),
      dataMiBAfter: Math.round(dataBytes / 2 ** 20),
    },
    fullErasureUpperBoundMs: {
      median: round(median(eraseMs) + purgeMs),
      p95: round(percentile(eraseMs, 95) + purgeMs),
      note: 'erase + one scheduled purge run right after it; the purge covers every erasure pending at that moment',
    },
    // The machine is shared: 1/5/15-minute load averages at the start and the end of the measured part.
    loadAverage: { start: loadAtStart, end: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    residualHitsBeforePurge: residualBeforePurge.length,
    residualHits: residual,
  });
  console.log(`recorded ${file}`);
}

await main();
