/**
 * A server-mode Candor made of real processes for the fault tests: `candor serve --role api|worker` on
 * PostgreSQL (a schema of its own) and NATS JetStream (a stream of its own), a load client that records
 * which events were acknowledged, and the checks: every acknowledged event is in the event store exactly
 * once. Everything it creates, `cleanup()` removes (processes, schema, stream).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { generateSecrets, testEnv } from '../../src/kernel/config.ts';
import { eventIdOf, INGEST_DURABLE } from '../../src/modules/ingest/index.ts';
import { createTestPgSchema, makeTempDir, requirePgUrl } from '../../src/storage/testing.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');

export function requireNatsUrl(): string {
  const { natsUrl } = testEnv();
  if (!natsUrl) {
    throw new Error(
      'CANDOR_TEST_NATS_URL is not set. The server-mode suites need NATS JetStream: run ' +
        'CANDOR_TEST_NATS_URL=nats://127.0.0.1:4222 CANDOR_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test npm run test:server',
    );
  }
  return natsUrl;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
  );

export type Proc = { child: ChildProcess; name: string; url?: string; output: string[] };

export type ClusterOptions = {
  /** JetStream ack wait of the workers' consumer: how soon a killed worker's messages come back. */
  ackWaitMs?: number;
  /** Replace the PostgreSQL URL a process uses (e.g. a proxy), per role. */
  pgUrlFor?: (role: 'api' | 'worker') => string;
  /**
   * Niceness of worker processes (0 by default). On a machine shared by both roles the API answers
   * shoppers and the worker only has to keep up on average, so deployments lower the workers' CPU
   * priority (docs/deploy.md, `Nice=` in the worker unit).
   */
  workerNice?: number;
};

export type Cluster = Awaited<ReturnType<typeof startCluster>>;

export async function startCluster(options: ClusterOptions = {}) {
  const pgUrl = requirePgUrl();
  const natsUrl = requireNatsUrl();
  const schema = await createTestPgSchema(pgUrl);
  const tag = randomBytes(4).toString('hex');
  const streamName = `CANDOR_FAULT_${tag}`;
  const streamUrl = `${natsUrl}?stream=${streamName}&prefix=candorfault.${tag}.&ackWaitMs=${options.ackWaitMs ?? 3_000}&publishTimeoutMs=2000`;
  const data = makeTempDir('candor-cluster');
  const s = generateSecrets();
  const baseEnv: Record<string, string | undefined> = {
    ...process.env,
    CANDOR_ENV: 'test',
    CANDOR_LOG_LEVEL: 'warn',
    CANDOR_PG_SCHEMA: schema.schema,
    CANDOR_STREAM_URL: streamUrl,
    CANDOR_KEK: s.kek,
    CANDOR_PSEUDONYM_KEY: s.pseudonymKey,
    CANDOR_SESSION_SECRET: s.sessionSecret,
    CANDOR_SHOPPER_TOKEN_SECRET: s.shopperTokenSecret,
    CANDOR_SIGNING_KEY: s.signingKey,
  };
  delete baseEnv.CANDOR_CONFIG_FILE;
  const envFor = (role: 'api' | 'worker') => {
    const url = options.pgUrlFor?.(role) ?? pgUrl;
    return { ...baseEnv, CANDOR_STATE_URL: url, CANDOR_EVENTS_URL: url };
  };
  const procs = new Set<Proc>();

  /** Asynchronous, so a test's own TCP proxy keeps forwarding while the command runs. */
  function cli(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [MAIN, '--data-dir', data.path, ...args], { env: envFor('api') });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.on('exit', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`candor ${args.join(' ')} failed: ${err}`)),
      );
    });
  }

  function spawnRole(role: 'api' | 'worker', args: string[], name: string): Proc {
    const argv = [
      process.execPath,
      MAIN,
      '--data-dir',
      data.path,
      '--json',
      'serve',
      '--role',
      role,
      ...args,
    ];
    // Through nice(1), so that every thread of the process (GC, libuv pool) starts at that priority.
    const nice = role === 'worker' ? (options.workerNice ?? 0) : 0;
    const [cmd, ...rest] = nice > 0 ? ['nice', '-n', String(nice), ...argv] : argv;
    const child = spawn(cmd!, rest, { env: envFor(role), stdio: ['ignore', 'pipe', 'pipe'] });
    const proc: Proc = { child, name, output: [] };
    const keep = (b: Buffer) => {
      proc.output.push(b.toString());
      if (proc.output.length > 200) proc.output.shift();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    procs.add(proc);
    child.once('exit', () => procs.delete(proc));
    return proc;
  }

  async function waitUntil(proc: Proc, ready: () => Promise<boolean> | boolean, what: string) {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (proc.child.exitCode !== null)
        throw new Error(`${proc.name} exited with ${proc.child.exitCode}: ${proc.output.join('')}`);
      if (await ready()) return;
      await sleep(50);
    }
    throw new Error(`${proc.name} did not become ${what} in 60 s: ${proc.output.join('')}`);
  }

  const cluster = {
    schema: schema.schema,
    streamName,
    cli,
    async api(name = 'api'): Promise<Proc> {
      const port = await freePort();
      const proc = spawnRole('api', ['--port', String(port)], name);
      proc.url = `http://127.0.0.1:${port}`;
      await waitUntil(
        proc,
        async () => {
          try {
            return (await fetch(`${proc.url}/health`)).ok;
          } catch {
            return false;
          }
        },
        'healthy',
      );
      return proc;
    },
    async worker(name = 'worker'): Promise<Proc> {
      const proc = spawnRole('worker', [], name);
      await waitUntil(proc, () => proc.output.join('').includes('"role":"worker"'), 'ready');
      return proc;
    },
    async kill9(proc: Proc): Promise<void> {
      proc.child.kill('SIGKILL');
      await exited(proc.child);
    },
    /**
     * The workers' consumer: messages not yet delivered, delivered but not acknowledged, and delivered more
     * than once (a worker failed or died holding them).
     */
    async backlog(): Promise<{ pending: number; ackPending: number; redelivered: number }> {
      const nc = await connect({ servers: natsUrl });
      try {
        const jsm = await jetstreamManager(nc);
        const info = await jsm.consumers.info(streamName, INGEST_DURABLE);
        return {
          pending: info.num_pending,
          ackPending: info.num_ack_pending,
          redelivered: info.num_redelivered,
        };
      } finally {
        await nc.close();
      }
    },
    /** Waits until the workers consumed and acknowledged everything on the stream. */
    async drained(timeoutMs = 90_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          const b = await cluster.backlog();
          if (b.pending === 0 && b.ackPending === 0) return;
        } catch {
          // NATS restarting: ask again
        }
        if (Date.now() > deadline) throw new Error('The workers did not drain the stream in time.');
        await sleep(200);
      }
    },
    /** Event ids in the event store, with how often each is there. */
    async storedIds(): Promise<Map<string, number>> {
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      try {
        const r = await client.query<{ event_id: string; n: string }>(
          `SELECT event_id, count(*) AS n FROM "${schema.schema}".events GROUP BY event_id`,
        );
        return new Map(r.rows.map((row) => [row.event_id, Number(row.n)]));
      } finally {
        await client.end();
      }
    },
    async cleanup(): Promise<void> {
      for (const p of [...procs]) {
        p.child.kill('SIGKILL');
        await exited(p.child);
      }
      await schema.drop();
      const nc = await connect({ servers: natsUrl }).catch(() => null);
      if (nc) {
        const jsm = await jetstreamManager(nc);
        await jsm.streams.delete(streamName).catch(() => undefined);
        await nc.close();
      }
      data.cleanup();
    },
  };
  return cluster;
}

/** A source with consented devices: what a shop's tag would have before sending events. */
export async function prepareShop(cluster: Cluster, apiUrl: string, devices: number) {
  const { sourceId, writeKey } = JSON.parse(
    await cluster.cli(['--json', 'source', 'create', '--name', 'web']),
  ) as {
    sourceId: string;
    writeKey: string;
  };
  const headers = {
    'content-type': 'application/json',
    authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
  };
  for (let d = 0; d < devices; d++) {
    const r = await fetch(`${apiUrl}/v1/consent`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ anonymousId: `dev-${d}`, purposes: { analytics: true }, noticeVersion: '1' }),
    });
    if (r.status !== 201) throw new Error(`consent failed: ${r.status} ${await r.text()}`);
  }
  return { sourceId, writeKey, headers, devices };
}

export type Shop = Awaited<ReturnType<typeof prepareShop>>;

export function batchBody(shop: Shop, batchNo: number, size: number) {
  return {
    batch: Array.from({ length: size }, (_, i) => ({
      type: 'track',
      event: 'Product Viewed',
      anonymousId: `dev-${(batchNo + i) % shop.devices}`,
      messageId: `b${batchNo}-e${i}`,
      properties: { product_id: `p${i % 50}` },
    })),
  };
}

export type LoadResult = {
  /** Event ids acknowledged with 200. */
  acked: Set<string>;
  /** Event ids of requests that never got an answer (connection lost): in flight at a fault. */
  inFlightLost: Set<string>;
  status503: number;
  retryAfterSeen: boolean;
  otherErrors: string[];
};

/**
 * Posts `batches` batches from `concurrency` clients round-robin over `urls()`, like a shop's tags behind
 * a load balancer. A batch answered 503 or whose connection died is retried (after Retry-After, on the
 * next URL) until acknowledged or `deadlineMs` passes, the way the SDK retries.
 */
export async function runLoad(
  shop: Shop,
  urls: () => string[],
  options: { batches: number; size: number; concurrency: number; deadlineMs?: number },
): Promise<LoadResult> {
  const result: LoadResult = {
    acked: new Set(),
    inFlightLost: new Set(),
    status503: 0,
    retryAfterSeen: false,
    otherErrors: [],
  };
  const deadline = Date.now() + (options.deadlineMs ?? 120_000);
  let next = 0;
  let turn = 0;
  const client = async () => {
    for (;;) {
      const n = next++;
      if (n >= options.batches) return;
      const body = batchBody(shop, n, options.size);
      const ids = body.batch.map((e) => eventIdOf(shop.sourceId, e.messageId));
      for (;;) {
        if (Date.now() > deadline) {
          result.otherErrors.push(`batch ${n} never acknowledged`);
          break;
        }
        const list = urls();
        const url = list[turn++ % list.length]!;
        let res: Response;
        try {
          res = await fetch(`${url}/v1/batch`, {
            method: 'POST',
            headers: shop.headers,
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(15_000),
          });
        } catch {
          for (const id of ids) result.inFlightLost.add(id);
          await sleep(100);
          continue;
        }
        if (res.status === 200) {
          await res.arrayBuffer();
          for (const id of ids) result.acked.add(id);
          break;
        }
        const text = await res.text();
        if (res.status === 503) {
          result.status503 += 1;
          const retryAfter = res.headers.get('retry-after');
          if (retryAfter) result.retryAfterSeen = true;
          await sleep(Math.min(Number(retryAfter ?? 1), 2) * 250);
          continue;
        }
        result.otherErrors.push(`${res.status} ${text.slice(0, 200)}`);
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  return result;
}

/** Every acknowledged id stored exactly once, and no id stored twice at all. */
export function checkExactlyOnce(acked: Set<string>, stored: Map<string, number>) {
  const missing = [...acked].filter((id) => !stored.has(id));
  const duplicated = [...stored].filter(([, n]) => n !== 1).map(([id]) => id);
  return { missing, duplicated };
}
