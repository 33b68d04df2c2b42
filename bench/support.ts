// Shared by benchmarks: machine description, medians, and recording results with the command that made them.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** `--name N` from the command line as a number, or `dflt`. */
export function numberArg(name: string, dflt: number): number {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : dflt;
}

export function machine() {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function recordResult(name: string, result: Record<string, unknown>): string {
  const dir = path.join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  const doc = {
    name,
    command: `npm run bench -- ${[name, ...process.argv.slice(2)].join(' ')}`,
    at: new Date().toISOString(),
    machine: machine(),
    ...result,
  };
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  return file;
}

export function printTable(rows: Record<string, string | number>[]): void {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(width[i]!)).join('  ');
  console.log(line(cols));
  console.log(line(width.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(cols.map((c) => String(r[c]))));
}

const TRACKED = ['Product Viewed', 'product_list_view', 'search', 'Product Added', 'page_leave'] as const;

/**
 * The n-th message a shop's browsers send, as analytics.js would (the ingestion benches post and measure
 * these): a page view every fourth, track calls of five kinds, and every fiftieth (`i % 50 === 49`, `i` its
 * place in a batch of 100) an unknown event name, which ingestion quarantines.
 */
export function trackingMessage(
  n: number,
  i: number,
  runId: string,
  subjects: number,
): Record<string, unknown> {
  const subject = n % subjects;
  const base = {
    messageId: `${runId}-${n}`,
    anonymousId: `dev-${subject}`,
    timestamp: new Date().toISOString(),
    context: {
      page: { path: `/p/${n % 3000}`, referrer: 'https://www.google.com/' },
      userAgent:
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1',
      locale: 'id-ID',
      ip: '192.0.2.10',
    },
  };
  if (i % 50 === 49) return { ...base, type: 'track', event: 'Mystery Event', properties: {} };
  if (i % 4 === 0) return { ...base, type: 'page', name: 'Product', properties: { path: `/p/${n % 3000}` } };
  const event = TRACKED[n % TRACKED.length]!;
  return {
    ...base,
    type: 'track',
    event,
    properties:
      event === 'search'
        ? { query: 'sepatu lari', results_count: 24 }
        : event === 'page_leave'
          ? { engaged_ms: 12_000, scroll_depth: 0.6 }
          : {
              product_id: `p${String(n % 3000).padStart(6, '0')}`,
              price: 129_900,
              currency: 'IDR',
              quantity: 1,
            },
  };
}
