/**
 * Issue 12 fault proofs on real processes (PostgreSQL + NATS JetStream): kill -9 a worker mid-batch,
 * kill -9 an API process under load, restart NATS, cut PostgreSQL. After recovery every acknowledged
 * event is in the event store exactly once; each test prints how many events were in flight at the fault.
 *
 * PostgreSQL is shared with other suites on this machine, so it is never restarted here: its outage is
 * simulated with a TCP proxy between Candor and PostgreSQL that the test cuts (every connection dropped,
 * new ones refused) and restores. To Candor that is indistinguishable from a database restart.
 */
import { execFileSync } from 'node:child_process';
import { createConnection, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { requirePgUrl } from '../../src/storage/testing.ts';
import {
  checkExactlyOnce,
  freePort,
  prepareShop,
  runLoad,
  sleep,
  startCluster,
  type Cluster,
} from './cluster.ts';

/**
 * How this machine's NATS JetStream server is started (Debian package, as the CI machine runs it); the test
 * stops it and must bring it back whatever happens, because it is shared with every other suite.
 */
const NATS_START = (
  process.env.CANDOR_TEST_NATS_START ??
  'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log'
).split(/\s+/);

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

const report = (what: string, figures: Record<string, number>) =>
  console.log(`[fault] ${what}: ${JSON.stringify(figures)}`);

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Batches of 50 events each test sends: enough to be mid-flight at the fault, small enough for CI. */
const BATCHES = 240;

// Each test starts its own processes (api, workers, a CLI) and drives 12k events through them; on a
// loaded 2-core CI machine starting them alone can take half a minute, so a test gets more than the default.
describe('server mode under faults', { timeout: 150_000 }, () => {
  it('kill -9 of a worker in the middle of a batch: its messages are redelivered, stored exactly once', async () => {
    cluster = await startCluster({ ackWaitMs: 3_000 });
    const c = cluster;
    // Processes start side by side, as they would under a process manager; only the shop needs the API.
    const [w1, w2, shop] = await Promise.all([
      c.worker('worker-1'),
      c.worker('worker-2'),
      c.api().then((api) => prepareShop(c, api.url!, 20).then((s) => ({ ...s, url: api.url! }))),
    ]);
    const load = runLoad(shop, () => [shop.url], { batches: BATCHES, size: 50, concurrency: 8 });
    // Mid-batch: the worker holds delivered, unacknowledged messages.
    let held = 0;
    await until(async () => {
      held = (await cluster!.backlog()).ackPending;
      return held > 0;
    }, 'a worker holding unacknowledged messages');
    await cluster.kill9(w1);
    const w3 = await cluster.worker('worker-3');
    const result = await load;
    await cluster.drained();
    const stored = await cluster.storedIds();
    const { missing, duplicated } = checkExactlyOnce(result.acked, stored);
    report('worker kill -9', {
      acknowledged: result.acked.size,
      stored: stored.size,
      unackedMessagesAtKill: held,
      missing: missing.length,
      duplicated: duplicated.length,
    });
    expect(result.otherErrors).toEqual([]);
    expect(result.acked.size).toBe(BATCHES * 50);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(w2.child.exitCode).toBeNull();
    expect(w3.child.exitCode).toBeNull();
  });

  it('kill -9 of an API process under load: what it acknowledged is kept, clients retry the rest elsewhere', async () => {
    cluster = await startCluster();
    const [a1, a2] = await Promise.all([cluster.api('api-1'), cluster.api('api-2'), cluster.worker()]);
    const shop = await prepareShop(cluster, a1.url!, 20);
    let alive = [a1.url!, a2.url!];
    const load = runLoad(shop, () => alive, { batches: BATCHES, size: 50, concurrency: 8 });
    await until(async () => (await cluster!.storedIds()).size > 2_000, 'load to be flowing');
    await cluster.kill9(a1);
    alive = [a2.url!];
    const result = await load;
    await cluster.drained();
    const stored = await cluster.storedIds();
    const { missing, duplicated } = checkExactlyOnce(result.acked, stored);
    report('api kill -9', {
      acknowledged: result.acked.size,
      stored: stored.size,
      inFlightRequestsEventsAtKill: result.inFlightLost.size,
      missing: missing.length,
      duplicated: duplicated.length,
    });
    expect(result.inFlightLost.size).toBeGreaterThan(0);
    expect(result.otherErrors).toEqual([]);
    expect(result.acked.size).toBe(BATCHES * 50);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
  });

  it('NATS restart under load: 503 + Retry-After while it is down, then everything acknowledged is stored once', async () => {
    cluster = await startCluster();
    const [api] = await Promise.all([cluster.api(), cluster.worker()]);
    const shop = await prepareShop(cluster, api.url!, 20);
    const load = runLoad(shop, () => [api.url!], { batches: BATCHES, size: 50, concurrency: 6 });
    await until(async () => (await cluster!.storedIds()).size > 1_500, 'load to be flowing');
    const start = NATS_START;
    let inFlight: { pending: number; ackPending: number } | undefined;
    try {
      inFlight = await cluster.backlog();
      execFileSync('start-stop-daemon', ['--stop', '--retry', '5', '--exec', '/usr/sbin/nats-server']);
      await sleep(2_500);
    } finally {
      // The NATS server is shared: it is back up whatever happened above.
      execFileSync(start[0]!, start.slice(1));
    }
    const result = await load;
    await cluster.drained();
    const stored = await cluster.storedIds();
    const { missing, duplicated } = checkExactlyOnce(result.acked, stored);
    report('nats restart', {
      acknowledged: result.acked.size,
      stored: stored.size,
      streamMessagesInFlightAtStop: (inFlight?.pending ?? 0) + (inFlight?.ackPending ?? 0),
      answered503: result.status503,
      missing: missing.length,
      duplicated: duplicated.length,
    });
    expect(result.status503).toBeGreaterThan(0);
    expect(result.retryAfterSeen).toBe(true);
    expect(result.otherErrors).toEqual([]);
    expect(result.acked.size).toBe(BATCHES * 50);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
  });

  it('PostgreSQL outage (proxy cut): the API answers 503 + Retry-After, workers retry, nothing acknowledged is lost', async () => {
    const pgUrl = new URL(requirePgUrl());
    const proxyPort = await freePort();
    const sockets = new Set<Socket>();
    let cut = false;
    const proxy = createServer((client) => {
      if (cut) return client.destroy();
      const upstream = createConnection(Number(pgUrl.port || 5432), pgUrl.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(proxyPort, '127.0.0.1', () => r()));
    try {
      const viaProxy = new URL(pgUrl);
      viaProxy.port = String(proxyPort);
      cluster = await startCluster({ pgUrlFor: () => viaProxy.toString() });
      const [api, worker] = await Promise.all([cluster.api(), cluster.worker()]);
      const shop = await prepareShop(cluster, api.url!, 20);
      const load = runLoad(shop, () => [api.url!], { batches: BATCHES, size: 50, concurrency: 6 });
      await until(async () => (await cluster!.storedIds()).size > 1_500, 'load to be flowing');
      const inFlight = await cluster.backlog();
      const storedAtCut = (await cluster.storedIds()).size;
      cut = true;
      for (const s of sockets) s.destroy();
      await sleep(3_000);
      // Messages the worker failed to store while the database was away, waiting for redelivery.
      const duringCut = await cluster.backlog();
      cut = false;
      const result = await load;
      await cluster.drained();
      const stored = await cluster.storedIds();
      const { missing, duplicated } = checkExactlyOnce(result.acked, stored);
      report('postgres outage', {
        acknowledged: result.acked.size,
        stored: stored.size,
        storedAtCut,
        streamMessagesInFlightAtCut: inFlight.pending + inFlight.ackPending,
        awaitingRedeliveryAtRestore: duringCut.redelivered,
        answered503: result.status503,
        missing: missing.length,
        duplicated: duplicated.length,
      });
      // The same processes rode the outage out: none crashed and was replaced.
      expect(api.child.exitCode).toBeNull();
      expect(worker.child.exitCode).toBeNull();
      expect(result.status503).toBeGreaterThan(0);
      expect(result.retryAfterSeen).toBe(true);
      expect(result.otherErrors).toEqual([]);
      expect(result.acked.size).toBe(BATCHES * 50);
      expect(missing).toEqual([]);
      expect(duplicated).toEqual([]);
    } finally {
      cut = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});
