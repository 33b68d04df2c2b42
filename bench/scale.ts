// `npm run bench -- scale`: ingestion throughput (events/s acknowledged and stored) and p99 ack latency of
// server mode with 1, 2 and 4 API processes and 1–2 workers (PostgreSQL + NATS JetStream), beside the
// embedded single process (SQLite + DuckDB), in one run; peak RSS (VmHWM) of every process.
// Needs CANDOR_TEST_PG_URL (a database whose name contains "test") and CANDOR_TEST_NATS_URL.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateSecrets } from '../src/kernel/config.ts';
import { makeTempDir } from '../src/storage/testing.ts';
import {
  batchBody,
  freePort,
  prepareShop,
  sleep,
  startCluster,
  type Proc,
  type Shop,
} from '../test/fault/cluster.ts';
import { machine, percentile, printTable, recordResult } from './support.ts';

const BATCHES = Number(process.argv[2] ?? 400);
const SIZE = 50;
const CLIENTS = 16;

function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

async function drive(shop: Shop, urls: string[]) {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const client = async (c: number) => {
    for (;;) {
      const n = next++;
      if (n >= BATCHES) return;
      const body = JSON.stringify(batchBody(shop, n, SIZE));
      for (;;) {
        const t0 = performance.now();
        const res = await fetch(`${urls[(n + c) % urls.length]!}/v1/batch`, {
          method: 'POST',
          headers: shop.headers,
          body,
        });
        await res.arrayBuffer();
        if (res.status === 200) {
          latencies.push(performance.now() - t0);
          break;
        }
        errors += 1;
        await sleep(100);
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  const seconds = (performance.now() - started) / 1000;
  return { seconds, latencies, errors };
}

type Row = Record<string, string | number>;
const rows: Row[] = [];
// The machine is shared: what else ran during a row moves its figures, so every row records the 1-minute load.
const load1 = () => Math.round(os.loadavg()[0]! * 10) / 10;
const loadAtStart = os.loadavg();

async function embedded(): Promise<void> {
  const dir = makeTempDir('candor-bench-scale');
  const MAIN = path.resolve(import.meta.dirname, '../src/cli/main.ts');
  const s = generateSecrets();
  const env = {
    ...process.env,
    CANDOR_ENV: 'test',
    CANDOR_LOG_LEVEL: 'warn',
    CANDOR_KEK: s.kek,
    CANDOR_PSEUDONYM_KEY: s.pseudonymKey,
    CANDOR_SESSION_SECRET: s.sessionSecret,
    CANDOR_SHOPPER_TOKEN_SECRET: s.shopperTokenSecret,
    CANDOR_SIGNING_KEY: s.signingKey,
    CANDOR_STATE_URL: '',
    CANDOR_EVENTS_URL: '',
    CANDOR_STREAM_URL: '',
  };
  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [MAIN, '--data-dir', dir.path, ...args], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout;
  };
  const created = JSON.parse(cli(['--json', 'source', 'create', '--name', 'web'])) as {
    sourceId: string;
    writeKey: string;
  };
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, '--data-dir', dir.path, 'serve', '--port', String(port)], {
    env,
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (;;) {
      try {
        if ((await fetch(`${url}/health`)).ok) break;
      } catch {
        await sleep(100);
      }
    }
    const fakeCluster = { cli: async () => JSON.stringify(created) } as unknown as Parameters<
      typeof prepareShop
    >[0];
    const shop = await prepareShop(fakeCluster, url, 20);
    const r = await drive(shop, [url]);
    const events = BATCHES * SIZE;
    rows.push({
      mode: 'embedded',
      api: 1,
      workers: 0,
      'acked ev/s': Math.round(events / r.seconds),
      'stored ev/s': Math.round(events / r.seconds),
      'p99 ack ms': Math.round(percentile(r.latencies, 99)),
      'p50 ack ms': Math.round(percentile(r.latencies, 50)),
      retries: r.errors,
      load1: load1(),
      'peak RSS MB': `${peakRssMb(child.pid)}`,
    });
  } finally {
    child.kill('SIGKILL');
    dir.cleanup();
  }
}

async function server(apis: number, workers: number): Promise<void> {
  const cluster = await startCluster({ ackWaitMs: 30_000 });
  try {
    const api: Proc[] = [];
    for (let i = 0; i < apis; i++) api.push(await cluster.api(`api-${i}`));
    const ws: Proc[] = [];
    for (let i = 0; i < workers; i++) ws.push(await cluster.worker(`worker-${i}`));
    const shop = await prepareShop(cluster, api[0]!.url!, 20);
    const started = performance.now();
    const r = await drive(
      shop,
      api.map((p) => p.url!),
    );
    await cluster.drained(300_000);
    const stored = (performance.now() - started) / 1000;
    const events = BATCHES * SIZE;
    const storedCount = (await cluster.storedIds()).size;
    if (storedCount !== events) throw new Error(`stored ${storedCount} of ${events}`);
    rows.push({
      mode: 'server',
      api: apis,
      workers,
      'acked ev/s': Math.round(events / r.seconds),
      'stored ev/s': Math.round(events / stored),
      'p99 ack ms': Math.round(percentile(r.latencies, 99)),
      'p50 ack ms': Math.round(percentile(r.latencies, 50)),
      retries: r.errors,
      load1: load1(),
      'peak RSS MB': [...api, ...ws].map((p) => `${p.name}:${peakRssMb(p.child.pid)}`).join(' '),
    });
  } finally {
    await cluster.cleanup();
  }
}

await embedded();
for (const [a, w] of [
  [1, 1],
  [1, 2],
  [2, 1],
  [2, 2],
  [4, 2],
] as const) {
  await server(a, w);
}
printTable(rows);
const file = recordResult('scale', {
  machine: machine(),
  command: `npm run bench -- scale ${BATCHES}`,
  load: { batches: BATCHES, eventsPerBatch: SIZE, clients: CLIENTS },
  loadAverage: { atStart: loadAtStart, atEnd: os.loadavg() },
  rows,
});
console.log(`recorded ${file}`);
