/**
 * Soak: holds a steady, open-loop ingestion rate (80% of the capacity `npm run bench -- scale` measured) on a
 * server-mode Candor (PostgreSQL + NATS JetStream, real processes) for N minutes, and records errors, ack
 * latency and every process's memory over time. Passes when nothing failed, every acknowledged event is
 * stored exactly once, and each process's memory is flat within ±10% from the end of warm-up to the end.
 *
 *   CANDOR_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test CANDOR_TEST_NATS_URL=nats://127.0.0.1:4222 \
 *     node test/load/soak.ts [--minutes 10] [--rate EVENTS_PER_S] [--apis 2] [--workers 2] \
 *       [--probe-seconds 60] [--plant-leak KIB_PER_S] [--worker-nice 10]
 *
 * What "flat" means. RSS as found is not a measure of growth: the API processes' RSS climbs for minutes and
 * then falls by a third at once, again and again (api-0 of an earlier 10-minute run: 292 → 357 MB in 2.5 min,
 * then 241; back to 339 by 7.5 min, then 235). That is V8 sizing its heap, not a leak. Measured with the
 * probe below in a 4-minute run at 1,500 events/s: under load V8 commits more old-generation pages step by
 * step (heap total 91 → 111 → 128 → 161 → 222 MB in 3 min) while the live heap after a full collection stayed
 * at 84–90 MB; a plain full collection gave the pages back to V8 (heap total 221 → 94 MB) but not to the OS
 * (RSS stayed at 338 MB): V8 pools them and unmaps them later in one go, which is the sudden fall. glibc's
 * arenas are not it: memory outside the heap (`external`, Buffers) stayed at 12–18 MB. So a baseline taken at
 * a peak of that cycle and an end sample taken in a trough "fail" by -20% with nothing kept, and a leak
 * smaller than the cycle passes. Instead every process runs with a probe (memory-probe.ts) that forces V8's
 * memory-reducing collection every --probe-seconds and records, right after it, the live heap and the RSS
 * floor (the pages really in use). Those are what the check compares: the median of the first three probes
 * after warm-up against the median of the last three, each within ±10%. Warm-up is the first WARMUP_FRACTION
 * of the run (2 of 10 minutes): connection pools, JIT-compiled code, the pseudonym and consent caches and the
 * JetStream publisher reach their working size in the first minute (the live heap grew 86 → 90 MB in that
 * minute of the 4-minute run, then stayed level). The probe's collection pauses its process (0.3–2.7 s per
 * probe in a run at load average 8–24 on 2 cores), so the ack latencies of a soak include those pauses.
 * `--plant-leak N` makes every process keep N KiB/s of
 * objects forever; the check must then fail, and did (docs/deploy.md, "Soak").
 *
 * Records bench/results/soak.json. Open loop: batches leave on a fixed schedule whether or not earlier ones
 * were answered, the way real shoppers' tags do, so a slow server shows up as latency and errors instead of
 * quietly slowing the load down.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { eventIdOf } from '../../src/modules/ingest/index.ts';
import { machine, percentile, printTable, recordResult } from '../../bench/support.ts';
import { makeTempDir } from '../../src/storage/testing.ts';
import {
  batchBody,
  checkExactlyOnce,
  prepareShop,
  sleep,
  startCluster,
  type Proc,
} from '../fault/cluster.ts';

const SIZE = 50;
/** Batches allowed to wait for an answer at once; beyond it the server is not keeping up: an error. */
const MAX_OUTSTANDING = 256;
const SAMPLE_EVERY_MS = 15_000;
/** The share of the run that is warm-up: the probes in it are not judged. */
const WARMUP_FRACTION = 0.2;
/** Largest change of the live heap and the RSS floor, after warm-up, that still counts as flat. */
const FLAT_WITHIN = 0.1;

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string' },
    apis: { type: 'string', default: '2' },
    workers: { type: 'string', default: '2' },
    'probe-seconds': { type: 'string', default: '60' },
    'plant-leak': { type: 'string', default: '0' },
    'worker-nice': { type: 'string', default: '10' },
  },
});
const probeMs = Number(values['probe-seconds']) * 1000;
const plantLeakKbPerS = Number(values['plant-leak']);
const minutes = Number(values.minutes);
const apis = Number(values.apis);
const workers = Number(values.workers);
const workerNice = Number(values['worker-nice']);

/** 80% of the stored events/s scale measured for this topology (or the closest one it measured). */
function defaultRate(): number {
  const file = path.resolve(import.meta.dirname, '../../bench/results/scale.json');
  let doc: { rows: Record<string, string | number>[] };
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as typeof doc;
  } catch {
    throw new Error('No bench/results/scale.json: run `npm run bench -- scale` first, or pass --rate.');
  }
  const server = doc.rows.filter((r) => r.mode === 'server');
  const same = server.find((r) => r.api === apis && r.workers === workers);
  const row = same ?? server.sort((a, b) => Number(a['stored ev/s']) - Number(b['stored ev/s']))[0];
  if (!row) throw new Error('bench/results/scale.json has no server-mode row: pass --rate.');
  return Math.round(Number(row['stored ev/s']) * 0.8);
}

const rate = values.rate ? Number(values.rate) : defaultRate();
if (
  !(minutes > 0) ||
  !(rate > 0) ||
  !(apis >= 1) ||
  !(workers >= 1) ||
  !(probeMs >= 1000) ||
  !(plantLeakKbPerS >= 0) ||
  !(Number.isInteger(workerNice) && workerNice >= 0 && workerNice <= 19)
) {
  console.error(
    'usage: node test/load/soak.ts [--minutes N>0] [--rate EV/S>0] [--apis N>=1] [--workers N>=1] [--probe-seconds N>=1] [--plant-leak KIB_PER_S] [--worker-nice 0-19]',
  );
  process.exit(2);
}

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

type MemoryUsage = { rss: number; heapTotal: number; heapUsed: number; external: number };
type Probe = { at: number; gcMs: number; before: MemoryUsage; after: MemoryUsage };

/** The probe lines a process wrote (see memory-probe.ts). */
function probesOf(dir: string, pid: number | undefined): Probe[] {
  const file = path.join(dir, `${pid}.jsonl`);
  if (pid === undefined || !existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Probe);
}

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const middle = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const pct = (from: number, to: number) => (from > 0 ? Math.round(((to - from) / from) * 1000) / 10 : 0);

// Every process the cluster starts inherits this environment: the probe, and the planted leak if asked for.
const probeDir = makeTempDir('candor-soak-probe');
process.env.NODE_OPTIONS = [
  process.env.NODE_OPTIONS ?? '',
  '--expose-gc',
  `--import=${path.join(import.meta.dirname, 'memory-probe.ts')}`,
]
  .join(' ')
  .trim();
process.env.CANDOR_SOAK_PROBE_DIR = probeDir.path;
process.env.CANDOR_SOAK_PROBE_MS = String(probeMs);
if (plantLeakKbPerS > 0) process.env.CANDOR_SOAK_PLANT_LEAK_KB_PER_S = String(plantLeakKbPerS);

const cluster = await startCluster({ ackWaitMs: 30_000, workerNice });
try {
  const procs: Proc[] = [];
  for (let i = 0; i < apis; i++) procs.push(await cluster.api(`api-${i}`));
  for (let i = 0; i < workers; i++) procs.push(await cluster.worker(`worker-${i}`));
  const urls = procs.filter((p) => p.url).map((p) => p.url!);
  const shop = await prepareShop(cluster, urls[0]!, 20);

  const intervalMs = (SIZE / rate) * 1000;
  const durationMs = minutes * 60_000;
  // One flag per batch, not a set of event ids: millions of id strings in this process cost it
  // second-long collections, and a stalled load generator sends its overdue batches in one burst, which
  // reads as a server that is not keeping up. The ids are derived once, after the load.
  const ackedBatches = new Uint8Array(Math.ceil(durationMs / intervalMs) + 10_000);
  let ackedEvents = 0;
  const errors = new Map<string, number>();
  const errorsAtS: number[] = [];
  const latencies: number[] = [];
  const samples: {
    atS: number;
    load1: number;
    rssMb: Record<string, number>;
    backlog: number;
    outstandingMax: number;
    clientLoopDelayMaxMs: number;
  }[] = [];
  let outstanding = 0;
  let outstandingMax = 0;
  const pending = new Set<Promise<void>>();
  const startedAtMs = performance.now();
  const fail = (kind: string) => {
    errors.set(kind, (errors.get(kind) ?? 0) + 1);
    errorsAtS.push(Math.round((performance.now() - startedAtMs) / 1000));
  };
  // The load generator's own stalls, so that a reader can tell them from the server's.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  async function send(n: number): Promise<void> {
    const body = batchBody(shop, n, SIZE);
    const t0 = performance.now();
    outstanding += 1;
    outstandingMax = Math.max(outstandingMax, outstanding);
    try {
      const res = await fetch(`${urls[n % urls.length]!}/v1/batch`, {
        method: 'POST',
        headers: shop.headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      await res.arrayBuffer();
      if (res.status === 200) {
        latencies.push(performance.now() - t0);
        ackedBatches[n] = 1;
        ackedEvents += body.batch.length;
      } else fail(`http ${res.status}`);
    } catch (error) {
      fail(`request failed: ${(error as Error).name}`);
    } finally {
      outstanding -= 1;
    }
  }

  async function sample(started: number): Promise<void> {
    const rss: Record<string, number> = {};
    for (const p of procs) rss[p.name] = rssMb(p.child.pid);
    const b = await cluster.backlog().catch(() => ({ pending: -1, ackPending: 0 }));
    const s = {
      atS: Math.round((performance.now() - started) / 1000),
      load1: Math.round(os.loadavg()[0]! * 10) / 10,
      rssMb: rss,
      backlog: b.pending + b.ackPending,
      outstandingMax,
      clientLoopDelayMaxMs: Math.round(loopDelay.max / 1e6),
    };
    outstandingMax = 0;
    loopDelay.reset();
    samples.push(s);
    console.log(`[soak] ${JSON.stringify({ ...s, acked: ackedEvents, errors: Object.fromEntries(errors) })}`);
  }

  console.log(`[soak] ${rate} events/s for ${minutes} min on ${apis} api + ${workers} worker processes`);
  const started = performance.now();
  const startedAt = Date.now();
  let nextSample = 0;
  let n = 0;
  for (;;) {
    const elapsed = performance.now() - started;
    if (elapsed >= durationMs) break;
    if (elapsed >= nextSample) {
      await sample(started);
      nextSample += SAMPLE_EVERY_MS;
    }
    // Every batch whose time has come leaves now; the loop never waits for answers.
    while (n * intervalMs <= performance.now() - started) {
      if (outstanding >= MAX_OUTSTANDING) fail('client backlog: server not keeping up');
      else {
        const task = send(n).finally(() => pending.delete(task));
        pending.add(task);
      }
      n += 1;
    }
    await sleep(Math.max(1, Math.min(20, n * intervalMs - (performance.now() - started))));
  }
  await Promise.allSettled([...pending]);
  await sample(started);
  await cluster.drained(300_000);
  loopDelay.disable();
  const acked = new Set<string>();
  for (let b = 0; b < n; b++) {
    if (ackedBatches[b] !== 1) continue;
    for (const e of batchBody(shop, b, SIZE).batch) acked.add(eventIdOf(shop.sourceId, e.messageId));
  }
  const stored = await cluster.storedIds();
  const { missing, duplicated } = checkExactlyOnce(acked, stored);

  // Judged on the probes (live heap and RSS floor after a full collection), not on RSS as found: see the top.
  const warmupEnd = startedAt + durationMs * WARMUP_FRACTION;
  const rssRows = procs.map((p) => {
    const probes = probesOf(probeDir.path, p.child.pid);
    const judged = probes.filter((q) => q.at >= warmupEnd);
    const first = judged.slice(0, 3);
    const last = judged.slice(-3);
    const heapBase = middle(first.map((q) => q.after.heapUsed));
    const heapEnd = middle(last.map((q) => q.after.heapUsed));
    const floorBase = middle(first.map((q) => q.after.rss));
    const floorEnd = middle(last.map((q) => q.after.rss));
    const rssSeries = samples.map((s) => s.rssMb[p.name] ?? 0);
    return {
      process: p.name,
      probes: judged.length,
      'live heap MB': `${mb(heapBase)} → ${mb(heapEnd)}`,
      'heap drift %': pct(heapBase, heapEnd),
      'RSS floor MB': `${mb(floorBase)} → ${mb(floorEnd)}`,
      'floor drift %': pct(floorBase, floorEnd),
      'RSS as found min–max MB': `${Math.min(...rssSeries)}–${Math.max(...rssSeries)}`,
      'peak MB': Math.max(...rssSeries),
      'probe GC max ms': Math.max(0, ...probes.map((q) => q.gcMs)),
      series: probes.map((q) => ({
        atS: Math.round((q.at - startedAt) / 1000),
        gcMs: q.gcMs,
        rssMb: mb(q.before.rss),
        heapTotalMb: mb(q.before.heapTotal),
        heapUsedMb: mb(q.before.heapUsed),
        afterRssMb: mb(q.after.rss),
        afterHeapTotalMb: mb(q.after.heapTotal),
        afterHeapUsedMb: mb(q.after.heapUsed),
        afterExternalMb: mb(q.after.external),
      })),
    };
  });
  printTable(rssRows.map(({ series: _series, ...row }) => row));
  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
  // At least four probes after warm-up, or there is nothing to judge: that is a failure, not a pass.
  const rssFlat = rssRows.every(
    (r) =>
      r.probes >= 4 &&
      Math.abs(r['heap drift %']) <= FLAT_WITHIN * 100 &&
      Math.abs(r['floor drift %']) <= FLAT_WITHIN * 100,
  );
  const ok = errorCount === 0 && missing.length === 0 && duplicated.length === 0 && rssFlat;
  const summary = {
    rateEventsPerS: rate,
    minutes,
    batchesSent: n,
    acknowledgedEvents: acked.size,
    storedEvents: stored.size,
    missing: missing.length,
    duplicated: duplicated.length,
    errors: Object.fromEntries(errors),
    errorsAtS: errorsAtS.length > 0 ? `${errorsAtS[0]}–${errorsAtS.at(-1)}` : null,
    clientLoopDelayMaxMs: Math.max(0, ...samples.map((x) => x.clientLoopDelayMaxMs)),
    p50AckMs: Math.round(percentile(latencies, 50)),
    p99AckMs: Math.round(percentile(latencies, 99)),
    memoryFlatWithin10Percent: rssFlat,
    // The machine is shared: the load average says how much else ran (figures under load are pessimistic).
    load1MinMax: `${Math.min(...samples.map((x) => x.load1))}–${Math.max(...samples.map((x) => x.load1))}`,
    plantedLeakKibPerS: plantLeakKbPerS,
    ok,
  };
  console.log(summary);
  // A run with a planted leak is the check's own proof; it never replaces the soak's record.
  const file = recordResult(plantLeakKbPerS > 0 ? 'soak-planted-leak' : 'soak', {
    machine: machine(),
    command: `node test/load/soak.ts --minutes ${minutes} --rate ${rate} --apis ${apis} --workers ${workers} --probe-seconds ${probeMs / 1000} --worker-nice ${workerNice}${plantLeakKbPerS > 0 ? ` --plant-leak ${plantLeakKbPerS}` : ''}`,
    summary,
    memory: rssRows,
    samples,
  });
  console.log(`recorded ${file}`);
  process.exitCode = ok ? 0 : 1;
} finally {
  await cluster.cleanup();
  probeDir.cleanup();
}
