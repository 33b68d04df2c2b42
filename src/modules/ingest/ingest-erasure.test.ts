/**
 * A request whose events passed the consent gate before an erasure, and became durable after the erasure's
 * deletes (the group commit's wait; in server mode the trip through the stream), must not leave the erased
 * shopper's events behind. The erasure here lands between the pipeline and the event store's write, as an
 * erasure in another process would.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { createPseudonymizer } from '../../kernel/crypto.ts';
import { openDuckDbEventStore, openSqliteStateStore } from '../../storage/index.ts';
import type { EventRecord, EventStore, StateStore } from '../../storage/ports.ts';
import { makeTempDir, type TempDir } from '../../storage/testing.ts';
import { createErasedSubjects, privacyMigrations, type ErasedSubjects } from '../privacy/index.ts';
import { createIngestService } from './ingest.service.ts';
import { ingestMigrations } from './store.ts';

const KEY = 'k'.repeat(64);
const pseudonymize = createPseudonymizer(KEY);
const granted = { granted: true, consentId: 'consent-1' };

let dir: TempDir;
let state: StateStore;
let events: EventStore;
let erased: ErasedSubjects;
const clock = fixedClock('2025-04-01T10:00:00Z');

beforeEach(async () => {
  dir = makeTempDir('candor-ingest-erasure');
  state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
  await state.migrate({ ...ingestMigrations(state), ...privacyMigrations(state.dialect) });
  events = await openDuckDbEventStore({ file: path.join(dir.path, 'events.duckdb') });
  erased = createErasedSubjects({ state, clock });
});

afterEach(async () => {
  await events.close();
  await state.close();
  dir.cleanup();
});

/** The ingestion service, with `beforeAccept` run just before the event store takes a group. */
function ingestWith(beforeAccept: () => Promise<void>) {
  const store = {
    accept: async (batch: readonly EventRecord[]) => {
      await beforeAccept();
      await events.accept(batch);
    },
  } as unknown as EventStore;
  const erasedAgain: string[][] = [];
  const service = createIngestService(
    {
      state,
      events: store,
      clock,
      pseudonymize,
      consent: {
        stateAt: () => Promise.resolve(granted),
        cachedStateAt: () => granted,
        signalGpc: () => Promise.resolve(),
      },
      authenticateWriteKey: () => Promise.resolve({ sourceId: 'src_test' }),
      erasures: {
        anyErasedSince: (at) => erased.anyErasedSince(at),
        erasedSince: (ids, at) => erased.erasedSince(ids, at),
        eraseAgain: async (ids) => {
          erasedAgain.push([...ids]);
          await events.deleteSubjects(ids);
        },
      },
    },
    { commitDelayMs: 0 },
  );
  return { service, erasedAgain };
}

const views = (device: string, from: number) =>
  Array.from({ length: 5 }, (_, i) => ({
    type: 'track',
    event: 'Product Viewed',
    anonymousId: device,
    messageId: `${device}-${from + i}`,
    properties: { product_id: `p${i}` },
  }));

async function storedOf(subject: string): Promise<number> {
  return (await events.eventsOfSubjects([subject])).length;
}

describe('ingestion and an erasure running elsewhere', () => {
  it('erases again what was prepared before the erasure finished and became durable after its deletes', async () => {
    const erin = pseudonymize('device', 'device-erin');
    const olaf = pseudonymize('device', 'device-olaf');
    let erasure: (() => Promise<void>) | null = async () => {
      // The erasure runs as the flow runs it: named, the holders' deletes, complete.
      await erased.record([erin]);
      await events.deleteSubjects([erin]);
      clock.advance(50);
      await erased.complete([erin]);
    };
    const { service, erasedAgain } = ingestWith(async () => {
      const run = erasure;
      erasure = null;
      await run?.();
    });
    const outcome = await service.ingest({
      sourceId: 'src_test',
      messages: [...views('device-erin', 0), ...views('device-olaf', 0)],
      gpc: false,
    });
    expect(outcome.accepted).toBe(10);
    expect(erasedAgain).toEqual([[erin]]);
    expect(await storedOf(erin)).toBe(0);
    expect(await storedOf(olaf)).toBe(5);

    // Sent after the erasure finished (the shopper consented again): kept.
    clock.advance(10_000);
    await service.ingest({ sourceId: 'src_test', messages: views('device-erin', 100), gpc: false });
    expect(await storedOf(erin)).toBe(5);
    expect(erasedAgain).toHaveLength(1);
  });

  it('asks one small question per group when no erasure is recent, and erases nothing', async () => {
    const { service, erasedAgain } = ingestWith(async () => undefined);
    await service.ingest({ sourceId: 'src_test', messages: views('device-pia', 0), gpc: false });
    expect(erasedAgain).toEqual([]);
    expect(await storedOf(pseudonymize('device', 'device-pia'))).toBe(5);
  });
});
