/**
 * Issue 4 retention: events deleted by the retention job leave no bytes in the event files. Expired and
 * current events of many shoppers share DuckDB's row groups (they arrive interleaved), so a DELETE alone
 * leaves the expired shoppers' pseudonyms in `events.duckdb`; the run purges them as an erasure does: inside
 * the run on a small shop, or by the hourly `events.purge` job above the inline limit.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/kernel/clock.ts';
import { EVENTS_PURGE_JOB } from '../../src/modules/privacy/index.ts';
import type { EventRecord } from '../../src/storage/ports.ts';
import { makeTempDir } from '../../src/storage/testing.ts';
import { openShop, scanFor, type Shop } from './helpers.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-15T12:00:00Z');
const SHOPPERS = 40;
const EVENTS = 12_000;
let shop: Shop | undefined;

afterEach(async () => {
  await shop?.close();
  shop?.dir.cleanup();
  shop = undefined;
});

/** Pseudonyms shaped like ingestion's (43 characters of HMAC output); none is a prefix of another. */
const pseudonyms = () => Array.from({ length: SHOPPERS }, () => randomBytes(32).toString('base64url'));

function events(tag: string, gone: string[], kept: string[]): EventRecord[] {
  return Array.from({ length: EVENTS }, (_, i) => {
    // Every other event is past the anonymous-events TTL (395 days), from a shopper seen only then.
    const expired = i % 2 === 0;
    const subject = (expired ? gone : kept)[Math.floor(i / 2) % SHOPPERS]!;
    const ts = NOW - (expired ? 500 : 5) * DAY + i;
    return {
      eventId: `ev-${tag}-${i}`,
      sourceId: 'src_retention',
      subjectId: subject,
      anonymousId: subject,
      userId: null,
      sessionId: `ses-${subject}`,
      type: 'page_view',
      purpose: 'analytics',
      consentId: null,
      ts,
      receivedAt: ts,
      path: '/c/tents',
      referrer: null,
      productId: null,
      category: 'tents',
      query: null,
      orderId: null,
      revenue: null,
      currency: null,
      quantity: null,
      deviceClass: 'mobile',
      country: 'ID',
      region: null,
      utmSource: null,
      props: '{}',
    };
  });
}

async function openWith(
  inlinePurgeMaxEvents?: number,
): Promise<{ tag: string; gone: string[]; kept: string[] }> {
  const clock = fixedClock(new Date(NOW));
  shop = await openShop(makeTempDir('candor-retention-purge'), undefined, {
    clock,
    ...(inlinePurgeMaxEvents !== undefined ? { config: { privacy: { inlinePurgeMaxEvents } } } : {}),
  });
  const tag = randomBytes(5).toString('hex');
  const gone = pseudonyms();
  const kept = pseudonyms();
  await shop.candor.stores.events.append(events(tag, gone, kept));
  await shop.candor.stores.events.compact();
  return { tag, gone, kept };
}

const hitsIn = (needles: string[]) =>
  new Set(scanFor(shop!.candor.config.dataDir, needles).map((h) => h.needle)).size;

describe('issue 4: retention purges deleted events from the files', () => {
  it('on a small shop, the run itself rewrites the event file: no expired pseudonym is left in any file', async () => {
    const { gone, kept } = await openWith();
    // Before the run every shopper is in the event file.
    expect(hitsIn(gone)).toBe(SHOPPERS);

    const result = await shop!.privacy.retention.run();
    const anon = result.find((r) => r.dataClass === 'events.anonymous')!;
    expect(anon.eventsDeleted).toBe(EVENTS / 2);
    expect(anon.eventPurge).toEqual({ status: 'purged', purgedAt: NOW });
    // Classes that deleted no events carry no purge.
    expect(result.find((r) => r.dataClass === 'orders')!.eventPurge).toBeUndefined();
    expect(await shop!.candor.stores.events.count()).toBe(EVENTS / 2);

    expect(hitsIn(gone)).toBe(0);
    // The scan does find what is still stored: the current shoppers' events are intact.
    expect(hitsIn(kept)).toBe(SHOPPERS);
    // The roll-up keeps the counts, without anyone's id.
    const rollups = await shop!.privacy.retention.rollups({ dataClass: 'events.anonymous' });
    expect(rollups.reduce((n, r) => n + r.events, 0)).toBe(EVENTS / 2);

    // A second run deletes nothing and does not rewrite the file again.
    const again = await shop!.privacy.retention.run();
    expect(again.every((r) => r.eventPurge === undefined)).toBe(true);
  });

  it('above the inline limit, the run schedules the purge and the hourly job removes the bytes', async () => {
    const { gone, kept } = await openWith(1_000);
    const result = await shop!.privacy.retention.run();
    const anon = result.find((r) => r.dataClass === 'events.anonymous')!;
    expect(anon.eventsDeleted).toBe(EVENTS / 2);
    expect(anon.eventPurge).toEqual({ status: 'scheduled', purgeBy: NOW + 2 * 60 * 60 * 1000 });
    // Gone from every query at once, but their bytes wait for the purge: what "scheduled" means.
    expect(await shop!.candor.stores.events.eventsOfSubjects(gone)).toEqual([]);
    expect(hitsIn(gone)).toBeGreaterThan(0);

    const purge = shop!.privacy.jobs![EVENTS_PURGE_JOB]!;
    await purge(null, { jobId: 'job-test', attempt: 1 });
    expect(hitsIn(gone)).toBe(0);
    expect(hitsIn(kept)).toBe(SHOPPERS);
    expect(await shop!.candor.stores.events.count()).toBe(EVENTS / 2);
  });
});
