/**
 * Fault (issue 3): a real `candor serve` process on a data directory on disk, batches posted under
 * load, SIGKILL right after acknowledgements arrived, restart: every acknowledged event is present
 * exactly once (also after the client retries them), and every acknowledged order event has its order
 * record (the records are made after the commit, so the kill can beat them; the restart catches up).
 * Then every file in the data directory and the server's logs is scanned: no plaintext e-mail address,
 * phone number or card number that was sent.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventIdOf } from '../../src/modules/ingest/index.ts';
import { openDuckDbEventStore, openSqliteStateStore } from '../../src/storage/index.ts';
import { makeTempDir } from '../../src/storage/testing.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const data = makeTempDir('candor-fault');
const logs = makeTempDir('candor-fault-logs');
const env = { ...process.env, CANDOR_ENV: 'development', CANDOR_LOG_LEVEL: 'info' };
delete (env as Record<string, string | undefined>).CANDOR_CONFIG_FILE;

const EMAIL = 'fault.victim@mail.example';
const PHONE = '+62 811 2233 4455';
const CARD = '4111 1111 1111 1111';
const SECRETS = [EMAIL, PHONE, CARD, CARD.replaceAll(' ', ''), PHONE.replaceAll(' ', '')];

let server: ChildProcess | undefined;
afterAll(() => {
  server?.kill('SIGKILL');
  data.cleanup();
  logs.cleanup();
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [MAIN, '--data-dir', data.path, ...args], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`candor ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function serve(port: number, logName: string): Promise<ChildProcess> {
  const out = createWriteStream(path.join(logs.path, logName));
  const child = spawn(process.execPath, [MAIN, '--data-dir', data.path, 'serve', '--port', String(port)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`candor serve exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('candor serve did not become healthy in 30 s');
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
  );

function batchOf(loop: number, n: number) {
  return Array.from({ length: 100 }, (_, i) => {
    const k = n * 100 + i;
    const anonymousId = `fault-dev-${(loop * 7 + i) % 40}`;
    const messageId = `l${loop}-b${n}-e${i}`;
    if (i === 99) {
      return {
        type: 'track',
        event: 'Order Completed',
        anonymousId,
        messageId,
        properties: { order_id: `ord-${loop}-${n}`, revenue: 129_900, currency: 'IDR' },
      };
    }
    if (i % 25 === 0) {
      return {
        type: 'identify',
        anonymousId,
        userId: `fault-cust-${i}`,
        messageId,
        traits: { email: EMAIL, phone: PHONE, name: 'Fault Victim', plan: 'gold' },
      };
    }
    return {
      type: 'track',
      event: i % 3 === 0 ? 'Products Searched' : 'Product Viewed',
      anonymousId,
      messageId,
      properties: { product_id: `p${k % 50}`, query: `mail ${EMAIL} call ${PHONE} pay ${CARD}`, results: 3 },
      context: {
        page: { path: `/p/${k % 50}`, referrer: `https://ref.example/?e=${EMAIL}` },
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
      },
    };
  });
}

function scan(dir: string, found: string[]): void {
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) scan(file, found);
    else {
      const bytes = readFileSync(file);
      for (const s of SECRETS) if (bytes.includes(Buffer.from(s))) found.push(`${name}: ${s}`);
    }
  }
}

describe('durability under SIGKILL', () => {
  it('keeps every acknowledged event exactly once, and no plaintext identifiers at rest or in logs', async () => {
    const { sourceId, writeKey } = JSON.parse(cli(['--json', 'source', 'create', '--name', 'web'])) as {
      sourceId: string;
      writeKey: string;
    };
    const port = await freePort();
    server = await serve(port, 'first.log');
    const base = `http://127.0.0.1:${port}`;
    const headers = {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
    };
    for (let d = 0; d < 40; d++) {
      const r = await fetch(`${base}/v1/consent`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          anonymousId: `fault-dev-${d}`,
          purposes: { analytics: true },
          noticeVersion: '1',
        }),
      });
      expect(r.status).toBe(201);
    }

    const acked: { body: string; messageIds: string[]; accepted: number }[] = [];
    let killed = false;
    const loop = async (l: number) => {
      for (let n = 0; !killed; n++) {
        const batch = batchOf(l, n);
        const body = JSON.stringify({ batch });
        try {
          const res = await fetch(`${base}/v1/batch`, { method: 'POST', headers, body });
          if (res.status !== 200) throw new Error(`batch answered ${res.status}: ${await res.text()}`);
          const out = (await res.json()) as { accepted: number };
          acked.push({ body, messageIds: batch.map((e) => e.messageId), accepted: out.accepted });
        } catch (e) {
          if (killed) return;
          throw e;
        }
      }
    };
    const loops = Array.from({ length: 6 }, (_, l) => loop(l));
    // Kill right after a burst of acknowledgements, while requests are still in flight.
    while (acked.length < 60) await new Promise((r) => setTimeout(r, 5));
    killed = true;
    server.kill('SIGKILL');
    await Promise.all(loops);
    await exited(server);
    const ackedIds = acked.flatMap((a) => a.messageIds);
    const ackedOrders = acked.map(
      (a) =>
        (JSON.parse(a.body) as { batch: { properties: { order_id?: string } }[] }).batch[99]!.properties
          .order_id!,
    );
    expect(acked.every((a) => a.accepted === 100)).toBe(true);

    // Restart; the clients retry what they sent before the kill (a lost response looks the same).
    server = await serve(port, 'second.log');
    for (const a of acked.slice(-10)) {
      const res = await fetch(`${base}/v1/batch`, { method: 'POST', headers, body: a.body });
      expect(res.status).toBe(200);
    }
    server.kill('SIGTERM');
    await exited(server);
    server = undefined;

    const events = await openDuckDbEventStore({ file: path.join(data.path, 'events.duckdb') });
    try {
      const wanted = new Set(ackedIds.map((m) => eventIdOf(sourceId, m)));
      const rows = await events.db.selectFrom('events').select(['event_id']).execute();
      const counts = new Map<string, number>();
      for (const r of rows) counts.set(r.event_id, (counts.get(r.event_id) ?? 0) + 1);
      const missing = [...wanted].filter((id) => counts.get(id) !== 1);
      expect(missing).toEqual([]);
      expect(rows.length).toBe(counts.size);
      expect(wanted.size).toBeGreaterThanOrEqual(6000);
    } finally {
      await events.close();
    }

    const state = await openSqliteStateStore({ file: path.join(data.path, 'state.sqlite') });
    try {
      const rows = await state.db
        .selectFrom('orders' as never)
        .select(['order_id' as never])
        .execute();
      const recorded = new Set((rows as { order_id: string }[]).map((r) => r.order_id));
      expect(ackedOrders.filter((o) => !recorded.has(o))).toEqual([]);
      expect(ackedOrders.length).toBe(acked.length);
    } finally {
      await state.close();
    }

    const found: string[] = [];
    scan(data.path, found);
    scan(logs.path, found);
    expect(found).toEqual([]);
  }, 90_000);
});
