/**
 * Soak: holds a steady, open-loop ingestion rate (80% of the capacity `npm run bench -- scale` measured) on a
 * server-mode Candor (PostgreSQL + NATS JetStream, real processes) for N minutes, and records errors, ack
 * latency and every process's RSS over time. Passes when nothing failed, every acknowledged event is stored
 * exactly once, and each process's RSS at the end is within ±10% of its RSS after warm-up.
 *
 *   CANDOR_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test CANDOR_TEST_NATS_URL=nats://127.0.0.1:4222 \
 *     node test/load/soak.ts [--minutes 10] [--rate EVENTS_PER_S] [--apis 2] [--workers 2]
 *
 * Records bench/results/soak.json. Open loop: batches leave on a fixed schedule whether or not earlier ones
 * were answered, the way real shoppers' tags do, so a slow server shows up as latency and errors instead of
 * quietly slowing the load down.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { eventIdOf } from '../../src/modules/ingest/index.ts';
import { machine, percentile, printTable, recordResult } from '../../bench/support.ts';
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

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string' },
    apis: { type: 'string', default: '2' },
    workers: { type: 'string', default: '2' },
  },
});
const minutes = Number(values.minutes);
const apis = Number(values.apis);
const workers = Number(values.workers);

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
if (!(minutes > 0) || !(rate > 0) || !(apis >= 1) || !(workers >= 1)) {
  console.error(
    'usage: node test/load/soak.ts [--minutes N>0] [--rate EV/S>0] [--apis N>=1] [--workers N>=1]',
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

const cluster = await startCluster({ ackWaitMs: 30_000 });
try {
  const procs: Proc[] = [];
  for (let i = 0; i < apis; i++) procs.push(await cluster.api(`api-${i}`));
  for (let i = 0; i < workers; i++) procs.push(await cluster.worker(`worker-${i}`));
  const urls = procs.filter((p) => p.url).map((p) => p.url!);
  const shop = await prepareShop(cluster, urls[0]!, 20);

  const intervalMs = (SIZE / rate) * 1000;
  const durationMs = minutes * 60_000;
  const acked = new Set<string>();
  const errors = new Map<string, number>();
  const latencies: number[] = [];
  const samples: { atS: number; load1: number; rssMb: Record<string, number>; backlog: number }[] = [];
  let outstanding = 0;
  const pending = new Set<Promise<void>>();
  const fail = (kind: string) => errors.set(kind, (errors.get(kind) ?? 0) + 1);

  async function send(n: number): Promise<void> {
    const body = batchBody(shop, n, SIZE);
    const t0 = performance.now();
    outstanding += 1;
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
        for (const e of body.batch) acked.add(eventIdOf(shop.sourceId, e.messageId));
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
    };
    samples.push(s);
    console.log(`[soak] ${JSON.stringify({ ...s, acked: acked.size, errors: Object.fromEntries(errors) })}`);
  }

  console.log(`[soak] ${rate} events/s for ${minutes} min on ${apis} api + ${workers} worker processes`);
  const started = performance.now();
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
  const stored = await cluster.storedIds();
  const { missing, duplicated } = checkExactlyOnce(acked, stored);

  // RSS after warm-up (the first fifth of the run) against the last sample.
  const warm = samples[Math.max(1, Math.floor(samples.length / 5))] ?? samples[0]!;
  const last = samples[samples.length - 1]!;
  const rssRows = procs.map((p) => {
    const base = warm.rssMb[p.name] ?? 0;
    const end = last.rssMb[p.name] ?? 0;
    const drift = base > 0 ? Math.round(((end - base) / base) * 1000) / 10 : 0;
    const peak = Math.max(...samples.map((s) => s.rssMb[p.name] ?? 0));
    return {
      process: p.name,
      'RSS after warm-up MB': base,
      'RSS at end MB': end,
      'peak MB': peak,
      'drift %': drift,
    };
  });
  printTable(rssRows);
  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
  const rssFlat = rssRows.every((r) => Math.abs(r['drift %']) <= 10);
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
    p50AckMs: Math.round(percentile(latencies, 50)),
    p99AckMs: Math.round(percentile(latencies, 99)),
    rssFlatWithin10Percent: rssFlat,
    ok,
  };
  console.log(summary);
  const file = recordResult('soak', {
    machine: machine(),
    command: `node test/load/soak.ts --minutes ${minutes} --rate ${rate} --apis ${apis} --workers ${workers}`,
    summary,
    rss: rssRows,
    samples,
  });
  console.log(`recorded ${file}`);
  process.exitCode = ok ? 0 : 1;
} finally {
  await cluster.cleanup();
}
