/**
 * Browser-test support: Debian's Chromium driven by playwright-core (never a downloaded browser), a test
 * shop page server, and the collector the SDK talks to.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { testConfig } from '../../src/kernel/config.ts';
import { createPseudonymizer } from '../../src/kernel/crypto.ts';
import type { AuthModule } from '../../src/modules/auth/index.ts';
import { eventIdOf } from '../../src/modules/ingest/index.ts';
import { createCandor } from '../../src/server/index.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** The notice version Candor publishes on first start (the consent module's default notice). */
export const NOTICE_VERSION = '1';

export type SdkMessage = {
  type: string;
  messageId: string;
  anonymousId: string;
  userId?: string;
  event?: string;
  properties?: Record<string, unknown>;
  context?: Record<string, unknown>;
  timestamp: string;
  sentAt: string;
};

export type ConsentRecord = {
  anonymousId: string;
  userId?: string;
  purposes: Record<string, boolean>;
  noticeVersion: string;
  method: string;
  locale: string;
  gpc?: boolean;
};

export type CollectedRequest = { path: string; status: number; contentType: string; body: unknown };

export type Collector = {
  readonly url: string;
  /** Every request, in arrival order, with the status it was answered. */
  readonly requests: CollectedRequest[];
  /** The public write key of the test shop's source. */
  readonly writeKey: string;
  /** Consent decisions the server recorded, in order. */
  consents(): ConsentRecord[];
  /** The messages the server accepted that are in its event store, one per messageId. */
  events(): Promise<SdkMessage[]>;
  /** How many rows the event store holds for this messageId (1 = stored exactly once). */
  stored(messageId: string): Promise<number>;
  /** How many accepted requests carried this messageId (1 = sent exactly once). */
  deliveries(messageId: string): number;
  /** While true, tracking calls are answered 503, as by a server that is down. */
  setFailing(failing: boolean): void;
  close(): Promise<void>;
};

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The real Candor server (`createCandor(testConfig(dir))`, with a source and its write key) behind a thin
 * recording front: every request the browser makes is recorded with the status Candor answered, then handed
 * to Candor's app unchanged. `setFailing(true)` makes the front answer 503 without forwarding, as a server
 * that is down would. What counts as stored is read back from Candor's event store.
 */
export async function startCollector(): Promise<Collector> {
  const dir = await mkdtemp(path.join(tmpdir(), 'candor-browser-'));
  const config = testConfig(dir);
  const candor = await createCandor(config);
  const auth = candor.modules.find((m) => m.name === 'auth') as AuthModule | undefined;
  if (!auth)
    throw new Error('the auth module is not mounted; the browser tests need it to issue a write key');
  const { sourceId, writeKey } = await auth.keys.createSource('browser-test shop', 'system:test');
  const { pseudonymKey } = config.secrets;
  if (!pseudonymKey) throw new Error('testConfig gave no pseudonym key');
  const pseudonymize = createPseudonymizer(pseudonymKey);

  const requests: CollectedRequest[] = [];
  const consents: ConsentRecord[] = [];
  const accepted = new Map<string, SdkMessage>();
  const delivered = new Map<string, number>();
  let failing = false;

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://candor.test');
      const raw = await readBody(req);
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // Recorded as text: the server answers it with a 4xx.
      }
      const tracking = req.method === 'POST' && url.pathname.startsWith('/v1/');
      if (failing && tracking) {
        requests.push({
          path: url.pathname,
          status: 503,
          contentType: req.headers['content-type'] ?? '',
          body,
        });
        res.writeHead(503, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
        res.end(
          JSON.stringify({ error: { code: 'unavailable', message: 'Try again later.', requestId: 'front' } }),
        );
        return;
      }
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const response = await candor.app.fetch(
        new Request(url, {
          method: req.method ?? 'GET',
          headers,
          ...(raw && req.method !== 'GET' ? { body: raw } : {}),
        }),
      );
      const text = await response.text();
      requests.push({
        path: url.pathname,
        status: response.status,
        contentType: req.headers['content-type'] ?? '',
        body,
      });
      if (tracking && response.ok && typeof body === 'object' && body !== null) {
        const b = body as { batch?: SdkMessage[] };
        if (url.pathname === '/v1/consent') consents.push(body as ConsentRecord);
        for (const m of b.batch ?? []) {
          delivered.set(m.messageId, (delivered.get(m.messageId) ?? 0) + 1);
          if (!accepted.has(m.messageId)) accepted.set(m.messageId, m);
        }
      }
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(text);
    })();
  });
  const url = await listen(server);

  /** How many rows Candor's event store holds for each message (keyed by messageId). */
  async function storedCounts(): Promise<Map<string, number>> {
    const devices = [...new Set([...accepted.values()].map((m) => m.anonymousId))];
    const rows = await candor.stores.events.eventsOfSubjects(devices.map((a) => pseudonymize('device', a)));
    const byEventId = new Map<string, number>();
    for (const row of rows) byEventId.set(row.eventId, (byEventId.get(row.eventId) ?? 0) + 1);
    const out = new Map<string, number>();
    for (const id of accepted.keys()) out.set(id, byEventId.get(eventIdOf(sourceId, id)) ?? 0);
    return out;
  }

  return {
    url,
    writeKey,
    requests,
    consents: () => [...consents],
    events: async () => {
      const counts = await storedCounts();
      return [...accepted.values()].filter((m) => (counts.get(m.messageId) ?? 0) > 0);
    },
    stored: async (messageId) => (await storedCounts()).get(messageId) ?? 0,
    deliveries: (messageId) => delivered.get(messageId) ?? 0,
    setFailing: (value) => void (failing = value),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await candor.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The test shop: a long page (so scroll depth means something) that loads the SDK with one script tag. */
export async function startShop(
  sdk: string,
  collector: Pick<Collector, 'url' | 'writeKey'>,
): Promise<{ url: string; close(): Promise<void> }> {
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test shop</title></head>
<body style="margin:0"><h1>Test shop</h1><div style="height:4000px">Products</div>
<script src="/candor.iife.js"></script>
<script>
  const q = new URLSearchParams(location.search);
  candor.init({
    writeKey: ${JSON.stringify(collector.writeKey)},
    host: ${JSON.stringify(collector.url)},
    noticeVersion: ${JSON.stringify(NOTICE_VERSION)},
    locale: 'en',
    flushAt: Number(q.get('flushAt') || 1),
    flushIntervalMs: Number(q.get('interval') || 200),
  });
</script></body></html>`;
  // The one-tag variant: the script configures itself from its data attributes.
  const tagPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tag shop</title>
<script src="/candor.iife.js" data-write-key="${collector.writeKey}" data-host="${collector.url}" data-notice-version="${NOTICE_VERSION}"></script>
</head><body><h1>Tag shop</h1></body></html>`;
  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://shop').pathname;
    if (pathname === '/tag') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(tagPage);
      return;
    }
    if (pathname === '/candor.iife.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(sdk);
    } else if (pathname === '/' || pathname === '/product') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  const url = await listen(server);
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * Candor drops events from headless browsers as bot traffic; the tests stand in for a shopper's Chrome, so
 * the browser (every page, beacons included) presents a desktop Chrome user agent.
 */
const SHOPPER_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

/** Debian's Chromium with a fresh user-data directory, removed again by close(). */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'candor-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    userAgent: SHOPPER_UA,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-agent=${SHOPPER_UA}`,
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns true (the browser sends on its own schedule); fails with `what` otherwise. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for: ${what}`);
}
