// `npm run bench -- ingest [--seconds 30] [--half-seconds 15] [--concurrency 64] [--subjects 1000]
//   [--profile DIR] [--paced-rate REQ_PER_S] [--gc-trace]` (--profile: the server writes a V8 CPU profile into
//   DIR when it stops; --paced-rate: the second phase runs at this many requests/s instead of half the measured
//   maximum, to compare acknowledgement latency of two versions at the same load; the half-rate target is then
//   not judged; --gc-trace: the server traces every collection, and each phase reports its young-generation
//   collections' mean pause and the bytes they promoted into the old generation)
// Ingestion throughput through the whole HTTP stack: a real `candor serve` process on a temp data dir
// (embedded default: SQLite + DuckDB), a load generator on loopback posting /v1/batch requests of 100
// realistic events (80% of subjects with analytics consent, ~2% invalid events; bodies built ahead from 200
// serialised batches, every message id new) over kept-alive node:http connections with concurrency, first
// as fast as the server acknowledges for --seconds, then paced at half that rate for --half-seconds (after
// 3 s at that rate that are not counted, so the phase begins in its steady state). After
// the server stopped, the same events go straight into a fresh DuckDB event store (bulk append) for the
// raw rate. Targets (issue 3): >= 50,000 events/s accepted, ratio to raw append >= 0.5, p99 < 50 ms at
// half rate. Records bench/results/ingest.json.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createPseudonymizer } from '../src/kernel/crypto.ts';
import { openDuckDbEventStore } from '../src/storage/index.ts';
import type { EventRecord } from '../src/storage/ports.ts';
import { numberArg, percentile, printTable, recordResult, trackingMessage } from './support.ts';

const args = process.argv.slice(2);
const profileIdx = args.indexOf('--profile');
const PROFILE_DIR = profileIdx >= 0 && args[profileIdx + 1] ? path.resolve(args[profileIdx + 1]!) : null;
const SECONDS = numberArg('seconds', 30);
const HALF_SECONDS = numberArg('half-seconds', 15);
const PACED_RATE = numberArg('paced-rate', 0);
const GC_TRACE = args.includes('--gc-trace');
// A shop's server hears from many browsers at once. With 16 requests in flight a group commit could never
// hold more than 1,600 events, a third of the 5,000-event groups the raw append is measured with.
const CONCURRENCY = numberArg('concurrency', 64);
const SUBJECTS = numberArg('subjects', 1000);
const BATCH = 100;
const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'bin/candor.js');

let seq = 0;
const runId = Date.now().toString(36);
/** One realistic Segment message (bench/support.ts); about 2% are invalid. */
const message = (i: number) => trackingMessage(seq++, i, runId, SUBJECTS);

/**
 * Request bodies, built ahead: the load generator runs on the same two cores as the server, and building
 * and serialising 100 messages per request took it about as much CPU as the server's own HTTP handling.
 * Each template is one batch of realistic messages (`message`), serialised once; a request's body is a
 * template with a number of its own in every message id, so every posted message is new to the server.
 */
const ID_MARK = '~request~';
const TEMPLATE_COUNT = 200;
let templates: string[] = [];
// After the consents are recorded: the gate judges an event by the consent in force at the event's time.
const buildTemplates = () => {
  templates = Array.from({ length: TEMPLATE_COUNT }, () =>
    JSON.stringify({
      batch: Array.from({ length: BATCH }, (_, i) => {
        const m = message(i);
        return typeof m.messageId === 'string' ? { ...m, messageId: `${m.messageId}-${ID_MARK}` } : m;
      }),
    }),
  );
};
let bodies = 0;
const batchBody = () => {
  const n = bodies++;
  return templates[n % TEMPLATE_COUNT]!.replaceAll(ID_MARK, String(n));
};

/** Kept-alive connections, one per concurrent sender; node:http costs the generator less than fetch. */
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function postBatch(url: string, auth: string, body: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/batch`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: auth,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          try {
            resolve({
              status: res.statusCode ?? 0,
              json: JSON.parse(Buffer.concat(chunks).toString('utf8')),
            });
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function cli(dataDir: string, ...rest: string[]): string {
  const r = spawnSync(process.execPath, [bin, '--data-dir', dataDir, '--json', ...rest], {
    encoding: 'utf8',
    env: { ...process.env, CANDOR_LOG_LEVEL: 'error' },
  });
  if (r.status !== 0) throw new Error(`candor ${rest.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function startServer(dataDir: string): Promise<{ proc: ChildProcess; url: string }> {
  const nodeArgs = [
    ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []),
    ...(GC_TRACE ? ['--trace-gc-nvp'] : []),
  ];
  const proc = spawn(
    process.execPath,
    [...nodeArgs, bin, '--data-dir', dataDir, '--json', 'serve', '--port', '0'],
    {
      env: { ...process.env, CANDOR_LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let line = '';
    proc.stdout.on('data', (d: Buffer) => {
      if (out.length < 100_000) out += d.toString();
      const m = /"url":"([^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
      if (!GC_TRACE) return;
      const lines = (line + d.toString()).split('\n');
      line = lines.pop()!;
      for (const l of lines) noteCollection(l);
    });
    proc.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { proc, url };
}

const rssOf = (pid: number) => {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rssMiB: Math.round(kb('VmRSS') / 1024), peakMiB: Math.round(kb('VmHWM') / 1024) };
};

/**
 * CPU seconds the server used so far: all threads, and its main (JavaScript) thread alone. Under a shared
 * machine's load the rates move with the neighbours; CPU per event moves much less.
 */
const TICKS = 100; // USER_HZ on Linux
const cpuOf = (pid: number) => {
  const ticks = (file: string) => {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const rest = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
    return (Number(rest[11]) + Number(rest[12])) / TICKS;
  };
  // schedstat's second field: nanoseconds the thread spent runnable but waiting for a core.
  const waited = Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  return { all: ticks(`/proc/${pid}/stat`), main: ticks(`/proc/${pid}/task/${pid}/stat`), waited };
};

/** The server's runtime series (/metrics): event-loop delay since the previous scrape, GC pauses so far. */
type Runtime = {
  loopP99Ms: number;
  loopMaxMs: number;
  gcMs: number;
  gcPauses: number;
  gcOver10Ms: number;
  /** Full (mark-compact) collections: how many, and their pauses plus the incremental marking steps. */
  majorGcs: number;
  majorGcMs: number;
};

async function runtimeOf(url: string): Promise<Runtime> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const lines = text.split('\n');
  const sum = (prefix: string, suffix = '') =>
    lines
      .filter((l) => l.startsWith(prefix) && l.split(' ')[0]!.endsWith(suffix))
      .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
  return {
    loopP99Ms: sum('nodejs_eventloop_delay_p99_seconds ') * 1000,
    loopMaxMs: sum('nodejs_eventloop_delay_max_seconds ') * 1000,
    gcMs: sum('nodejs_gc_duration_seconds_sum') * 1000,
    gcPauses: sum('nodejs_gc_duration_seconds_count'),
    majorGcs: sum('nodejs_gc_duration_seconds_count{kind="major"}'),
    majorGcMs:
      (sum('nodejs_gc_duration_seconds_sum{kind="major"}') +
        sum('nodejs_gc_duration_seconds_sum{kind="incremental"}')) *
      1000,
    gcOver10Ms:
      sum('nodejs_gc_duration_seconds_count') - sum('nodejs_gc_duration_seconds_bucket', 'le="0.01"}'),
  };
}

/** Young-generation collections (V8's --trace-gc-nvp lines) in the running phase: count, pause, promoted bytes. */
type Scavenges = { count: number; pauseMs: number; promotedBytes: number };
let collecting: Scavenges | null = null;
function noteCollection(line: string): void {
  if (collecting === null || !line.includes(' gc=s ')) return;
  const field = (k: string) => Number(new RegExp(`\\b${k}=([\\d.]+)`).exec(line)?.[1] ?? 0);
  collecting.count++;
  collecting.pauseMs += field('pause');
  collecting.promotedBytes += field('promoted');
}

type Phase = {
  seconds: number;
  requests: number;
  posted: number;
  accepted: number;
  dropped: number;
  quarantined: number;
  errors: number;
  latencies: number[];
  /** Server CPU seconds in this phase (all threads / main thread) and the load generator's own. */
  cpu: { all: number; main: number; client: number; mainWaited: number };
  /** The event loop's delay over the phase, and the GC pauses in it (their total, count, count over 10 ms). */
  runtime: Runtime;
  /** With --gc-trace: the phase's young-generation collections. */
  scavenges: Scavenges;
};

async function load(
  url: string,
  auth: string,
  seconds: number,
  ratePerSec: number | null,
  pid: number,
): Promise<Phase> {
  const phase: Phase = {
    seconds,
    requests: 0,
    posted: 0,
    accepted: 0,
    dropped: 0,
    quarantined: 0,
    errors: 0,
    latencies: [],
    cpu: { all: 0, main: 0, client: 0, mainWaited: 0 },
    runtime: { loopP99Ms: 0, loopMaxMs: 0, gcMs: 0, gcPauses: 0, gcOver10Ms: 0, majorGcs: 0, majorGcMs: 0 },
    scavenges: { count: 0, pauseMs: 0, promotedBytes: 0 },
  };
  collecting = phase.scavenges;
  // This scrape starts the event-loop delay's interval; the one after the phase reads it.
  const runtime0 = await runtimeOf(url);
  const cpu0 = cpuOf(pid);
  const client0 = process.cpuUsage();
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  // Paced mode: request k may start at t0 + k / rate (shared across workers).
  let next = 0;
  const worker = async () => {
    while (performance.now() < end) {
      if (ratePerSec !== null) {
        const due = t0 + (next++ * 1000) / ratePerSec;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (performance.now() >= end) break;
      }
      const body = batchBody();
      const s = performance.now();
      try {
        const res = await postBatch(url, auth, body);
        const json = res.json as { accepted?: number; dropped?: number; quarantined?: number };
        phase.latencies.push(performance.now() - s);
        phase.requests++;
        phase.posted += BATCH;
        if (res.status !== 200) phase.errors++;
        phase.accepted += json.accepted ?? 0;
        phase.dropped += json.dropped ?? 0;
        phase.quarantined += json.quarantined ?? 0;
      } catch {
        phase.errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  phase.seconds = (performance.now() - t0) / 1000;
  const cpu1 = cpuOf(pid);
  const client = process.cpuUsage(client0);
  collecting = null;
  const runtime1 = await runtimeOf(url);
  phase.runtime = {
    loopP99Ms: runtime1.loopP99Ms,
    loopMaxMs: runtime1.loopMaxMs,
    gcMs: runtime1.gcMs - runtime0.gcMs,
    gcPauses: runtime1.gcPauses - runtime0.gcPauses,
    gcOver10Ms: runtime1.gcOver10Ms - runtime0.gcOver10Ms,
    majorGcs: runtime1.majorGcs - runtime0.majorGcs,
    majorGcMs: runtime1.majorGcMs - runtime0.majorGcMs,
  };
  phase.cpu = {
    all: cpu1.all - cpu0.all,
    main: cpu1.main - cpu0.main,
    client: (client.user + client.system) / 1e6,
    mainWaited: cpu1.waited - cpu0.waited,
  };
  return phase;
}

/** The same events as the pipeline stores them, for the raw event-store append rate. */
function records(n: number): EventRecord[] {
  const pseudo = createPseudonymizer(Buffer.alloc(32, 7).toString('base64'));
  const out: EventRecord[] = [];
  const now = Date.now();
  for (let k = 0; k < n; k++) {
    const m = message(k);
    const device = pseudo('device', String(m.anonymousId));
    out.push({
      eventId: `${runId}-raw-${k}`,
      sourceId: 'src_bench',
      subjectId: device,
      anonymousId: device,
      userId: null,
      sessionId: null,
      type: m.type === 'page' ? 'page_view' : 'product_view',
      purpose: 'analytics',
      consentId: '0190aaaa-0000-7000-8000-000000000000',
      ts: now - (n - k),
      receivedAt: now,
      path: `/p/${k % 3000}`,
      referrer: 'https://www.google.com/',
      productId: `p${String(k % 3000).padStart(6, '0')}`,
      category: null,
      query: null,
      orderId: null,
      revenue: null,
      currency: 'IDR',
      quantity: 1,
      deviceClass: 'mobile',
      country: null,
      region: null,
      utmSource: null,
      props: '{"price":129900}',
    });
  }
  return out;
}

async function rawAppend(dir: string, total: number): Promise<number> {
  const store = await openDuckDbEventStore({ file: path.join(dir, 'raw.duckdb') });
  const all = records(total);
  // The server commits groups of whatever arrived in a few ms; 5,000 is the order of its group size here.
  const GROUP = 5_000;
  const t = performance.now();
  for (let i = 0; i < all.length; i += GROUP) await store.append(all.slice(i, i + GROUP));
  const rate = total / ((performance.now() - t) / 1000);
  await store.close();
  return rate;
}

// Other work on the machine takes cores from the server and the load generator: recorded with the result.
const loadAt = () => loadavg().map((x) => Number(x.toFixed(2)));
const loadBefore = loadAt();
const dir = await mkdtemp(path.join(tmpdir(), 'candor-bench-ingest-'));
try {
  const { writeKey } = JSON.parse(cli(dir, 'source', 'create', '--name', 'bench')) as { writeKey: string };
  const auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
  const { proc, url } = await startServer(dir);
  let max: Phase;
  let half: Phase;
  let rss: { rssMiB: number; peakMiB: number };
  try {
    // 80% of subjects consent to analytics; the rest send events that are dropped at the consent gate.
    const consenting = Math.floor(SUBJECTS * 0.8);
    for (let s = 0; s < consenting; s += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, consenting - s) }, (_, k) =>
          fetch(`${url}/v1/consent`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: auth },
            body: JSON.stringify({
              anonymousId: `dev-${s + k}`,
              purposes: { analytics: true },
              noticeVersion: '1',
            }),
          }).then((r) => r.arrayBuffer()),
        ),
      );
    }
    buildTemplates();
    await load(url, auth, 3, null, proc.pid!); // warm-up: consent cache, JIT
    max = await load(url, auth, SECONDS, null, proc.pid!);
    rss = rssOf(proc.pid!);
    const maxRequestRate = max.requests / max.seconds;
    // The half-rate phase starts once the server has worked off what the full-rate phase left waiting
    // (requests in flight, events on their way into the table): 3 s at half rate, not counted.
    const pacedRate = PACED_RATE > 0 ? PACED_RATE : maxRequestRate / 2;
    await load(url, auth, 3, pacedRate, proc.pid!);
    half = await load(url, auth, HALF_SECONDS, pacedRate, proc.pid!);
  } finally {
    agent.destroy();
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
  const accepted = max.accepted / max.seconds;
  const raw = await rawAppend(dir, Math.max(200_000, Math.min(1_000_000, Math.round(max.accepted))));
  const row = (name: string, p: Phase) => ({
    phase: name,
    seconds: p.seconds.toFixed(1),
    'posted ev/s': Math.round(p.posted / p.seconds),
    'accepted ev/s': Math.round(p.accepted / p.seconds),
    dropped: p.dropped,
    quarantined: p.quarantined,
    errors: p.errors,
    'p50 ms': percentile(p.latencies, 50).toFixed(1),
    'p99 ms': percentile(p.latencies, 99).toFixed(1),
    // CPU per 1,000 posted events (every posted event is parsed, validated and judged).
    'server CPU ms/1k': ((p.cpu.all * 1e6) / p.posted).toFixed(1),
    'main thread ms/1k': ((p.cpu.main * 1e6) / p.posted).toFixed(1),
    'client CPU ms/1k': ((p.cpu.client * 1e6) / p.posted).toFixed(1),
    // How long the main thread was ready to run but had no core, per second of the phase: requests wait
    // that long on top of the work itself, whatever the code does.
    'main thread waited ms/s': ((p.cpu.mainWaited * 1000) / p.seconds).toFixed(0),
    // What held the thread that answers: the event loop's delay (it includes the 10 ms sampling interval)
    // and the collector's pauses (their share of the phase, and how many were longer than 10 ms).
    'loop delay p99/max ms': `${p.runtime.loopP99Ms.toFixed(0)} / ${p.runtime.loopMaxMs.toFixed(0)}`,
    'GC % / >10 ms': `${((100 * p.runtime.gcMs) / (p.seconds * 1000)).toFixed(1)} / ${p.runtime.gcOver10Ms}`,
    // Full collections mark the whole live heap on this thread: everything long-lived the process holds
    // (caches, tables, code) costs here, per collection.
    'full GCs / ms': `${p.runtime.majorGcs} / ${p.runtime.majorGcMs.toFixed(0)}`,
    ...(GC_TRACE
      ? {
          'young GC mean ms / promoted MB/s': `${(p.scavenges.pauseMs / Math.max(1, p.scavenges.count)).toFixed(1)} / ${(p.scavenges.promotedBytes / 1e6 / p.seconds).toFixed(1)}`,
        }
      : {}),
  });
  const pacedName = PACED_RATE > 0 ? `paced ${PACED_RATE} req/s` : 'half rate';
  const rows = [row('max rate', max), row(pacedName, half)];
  printTable(rows);
  const summary = {
    acceptedPerSec: Math.round(accepted),
    postedPerSec: Math.round(max.posted / max.seconds),
    rawAppendPerSec: Math.round(raw),
    ratioToRaw: Number((accepted / raw).toFixed(3)),
    p50MsAtMax: Number(percentile(max.latencies, 50).toFixed(1)),
    p99MsAtMax: Number(percentile(max.latencies, 99).toFixed(1)),
    // At --paced-rate these are the paced phase's (settings.pacedRate says so), not half rate's.
    p50MsAtHalf: Number(percentile(half.latencies, 50).toFixed(1)),
    p99MsAtHalf: Number(percentile(half.latencies, 99).toFixed(1)),
    serverRssMiB: rss.rssMiB,
    serverPeakRssMiB: rss.peakMiB,
    serverCpuMsPer1kAtMax: Number(((max.cpu.all * 1e6) / max.posted).toFixed(1)),
    mainThreadMsPer1kAtMax: Number(((max.cpu.main * 1e6) / max.posted).toFixed(1)),
  };
  console.log('');
  printTable([
    {
      'accepted ev/s': summary.acceptedPerSec,
      'raw append ev/s': summary.rawAppendPerSec,
      ratio: summary.ratioToRaw,
      [PACED_RATE > 0 ? 'p99 paced ms' : 'p99 half ms']: summary.p99MsAtHalf,
      'RSS MiB': summary.serverRssMiB,
      'load avg': `${loadBefore[0]} → ${loadAt()[0]}`,
    },
  ]);
  const targets = {
    acceptedPerSec: { target: 50_000, met: summary.acceptedPerSec >= 50_000 },
    ratioToRaw: { target: 0.5, met: summary.ratioToRaw >= 0.5 },
    ...(PACED_RATE > 0 ? {} : { p99MsAtHalf: { target: 50, met: summary.p99MsAtHalf < 50 } }),
  };
  const file = recordResult('ingest', {
    loadAverage: { before: loadBefore, after: loadAt() },
    settings: {
      seconds: SECONDS,
      halfSeconds: HALF_SECONDS,
      pacedRate: PACED_RATE > 0 ? PACED_RATE : 'half of max',
      concurrency: CONCURRENCY,
      batch: BATCH,
      subjects: SUBJECTS,
      consentShare: 0.8,
      invalidShare: 0.02,
    },
    summary,
    targets,
    phases: rows,
    reference: { rudderstack2CoreEventsPerSec: 1_700 },
  });
  console.log(`\nrecorded ${path.relative(root, file)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
