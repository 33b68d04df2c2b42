import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { openDuckDbEventStore } from '../../storage/adapters/duckdb/duckdb.event-store.ts';
import { openSqliteStateStore } from '../../storage/adapters/sqlite/sqlite.state-store.ts';
import { makeEvent } from '../../storage/contract/event-store.contract.ts';
import type { EventStore, StateStore } from '../../storage/ports.ts';
import { makeTempDir, type TempDir } from '../../storage/testing.ts';
import { EVENTS_PURGE_EVERY_MS, createEventPurges } from './event-purge.ts';
import { privacyMigrations } from './store.ts';

let dir: TempDir;
let state: StateStore;
let events: EventStore;
let eventsFile: string;

async function open(): Promise<void> {
  dir = makeTempDir('candor-event-purge');
  state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
  await state.migrate(privacyMigrations(state.dialect));
  eventsFile = path.join(dir.path, 'events.duckdb');
  events = await openDuckDbEventStore({ file: eventsFile });
  // Several shoppers share every row group; the erased one owns a small part of them.
  await events.append(
    Array.from({ length: 12_000 }, (_, i) =>
      makeEvent(i, { eventId: `e-${i}`, subjectId: i % 200 === 0 ? 'sub-gone-8c2e' : `sub-${i % 199}` }),
    ),
  );
}

afterEach(async () => {
  await events.close();
  await state.close();
  dir.cleanup();
});

const fileHas = (needle: string) => readFileSync(eventsFile).includes(Buffer.from(needle));

describe('physical purge of erased events', () => {
  it('purges inside the erasure on a small shop, so the receipt can say "purged"', async () => {
    await open();
    const clock = fixedClock('2030-03-01T10:00:00Z');
    const purges = createEventPurges({ state, events, clock, logger: silentLogger() });
    await events.deleteSubjects(['sub-gone-8c2e']);
    expect(await purges.afterErasure('req-1')).toEqual({ status: 'purged', purgedAt: clock.now().getTime() });
    expect(fileHas('sub-gone-8c2e')).toBe(false);
    expect(fileHas('sub-17')).toBe(true);
    expect(await purges.pending()).toEqual([]);
    // A resumed erasure does not rewrite the file again and reports the same purge.
    clock.advance(60_000);
    expect(await purges.afterErasure('req-1')).toEqual({
      status: 'purged',
      purgedAt: clock.now().getTime() - 60_000,
    });
  });

  it('on a large shop, schedules the purge with a deadline and the job does it only when needed', async () => {
    await open();
    const clock = fixedClock('2030-03-01T10:00:00Z');
    const purges = createEventPurges(
      { state, events, clock, logger: silentLogger() },
      { inlineMaxEvents: 1_000 },
    );
    await events.deleteSubjects(['sub-gone-8c2e']);
    const erasedAt = clock.now().getTime();
    expect(await purges.afterErasure('req-2')).toEqual({
      status: 'scheduled',
      purgeBy: erasedAt + 2 * EVENTS_PURGE_EVERY_MS,
    });
    // Deleted and invisible, but not yet gone from the file: that is what "scheduled" honestly means.
    expect(await events.eventsOfSubjects(['sub-gone-8c2e'])).toEqual([]);
    expect(fileHas('sub-gone-8c2e')).toBe(true);
    expect(await purges.pending()).toEqual(['req-2']);

    clock.advance(EVENTS_PURGE_EVERY_MS);
    expect(await purges.runScheduled()).toEqual({ purged: 1 });
    expect(fileHas('sub-gone-8c2e')).toBe(false);
    expect(await purges.status('req-2')).toEqual({ status: 'purged', purgedAt: clock.now().getTime() });
    expect(await events.count()).toBe(12_000 - 60);
    // Nothing erased since: the next tick does not rewrite the file.
    expect(await purges.runScheduled()).toEqual({ purged: 0 });
  });
});
