import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { openDuckDbEventStore } from '../../storage/adapters/duckdb/duckdb.event-store.ts';
import { openSqliteStateStore } from '../../storage/adapters/sqlite/sqlite.state-store.ts';
import { makeEvent } from '../../storage/contract/event-store.contract.ts';
import type { EventStore, StateStore } from '../../storage/ports.ts';
import { makeTempDir, type TempDir } from '../../storage/testing.ts';
import { createEventPurges, EVENTS_PURGE_EVERY_MS } from './event-purge.ts';
import { createEventStoreHolder } from './event-store.holder.ts';
import { createHolderRegistry, type HolderRegistry, type Subject } from './holder.ts';
import { privacyMigrations } from './store.ts';
import { createTakeBack } from './take-back.ts';

const LATE = 'sub-late-5d9a';
let dir: TempDir;
let state: StateStore;
let events: EventStore;
let eventsFile: string;
let registry: HolderRegistry;
/** Subjects the other holders a write reaches were asked to erase. */
let erasedBy: Record<string, string[]>;
const clock = fixedClock('2030-05-01T09:00:00Z');

beforeEach(async () => {
  dir = makeTempDir('candor-take-back');
  state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
  await state.migrate(privacyMigrations(state.dialect));
  eventsFile = path.join(dir.path, 'events.duckdb');
  events = await openDuckDbEventStore({ file: eventsFile });
  // Shoppers share every row group; the late write's subject owns a few rows among them.
  await events.append(
    Array.from({ length: 6_000 }, (_, i) =>
      makeEvent(i, { eventId: `e-${i}`, subjectId: i % 150 === 0 ? LATE : `sub-${i % 149}` }),
    ),
  );
  registry = createHolderRegistry();
  registry.register(createEventStoreHolder(events));
  erasedBy = {};
  for (const name of ['profiles', 'consent', 'chatbot']) {
    registry.register({
      describe: () => ({ name, summary: name, sources: [], tables: [] }),
      export: () => Promise.resolve({ tables: {} }),
      erase: (subject: Subject) => {
        (erasedBy[name] ??= []).push(...subject.subjectIds);
        return Promise.resolve({ deleted: 1 });
      },
    });
  }
});

afterEach(async () => {
  await events.close();
  await state.close();
  dir.cleanup();
});

const fileHas = (needle: string) => readFileSync(eventsFile).includes(Buffer.from(needle));

describe('taking back a write that landed after an erasure', () => {
  it('erases the subject in every holder a write reaches, then purges the event file on a small shop', async () => {
    const purges = createEventPurges({ state, events, clock, logger: silentLogger() });
    const takeBack = createTakeBack({ registry, purges, logger: silentLogger() });
    // The scan can see the bytes once they are checkpointed into the file (a positive control).
    await events.compact();
    expect(fileHas(LATE)).toBe(true);

    await takeBack.eraseAgain([LATE]);
    expect(await events.eventsOfSubjects([LATE])).toEqual([]);
    expect(erasedBy).toEqual({ profiles: [LATE], consent: [LATE] });

    await takeBack.idle();
    expect(fileHas(LATE)).toBe(false);
    expect(fileHas('sub-17')).toBe(true);
    expect(await purges.pending()).toEqual([]);
  });

  it('on a large shop, leaves the purge to the scheduled job, with a deadline', async () => {
    const purges = createEventPurges(
      { state, events, clock, logger: silentLogger() },
      { inlineMaxEvents: 1_000 },
    );
    const takeBack = createTakeBack({ registry, purges, logger: silentLogger() });
    await takeBack.eraseAgain([LATE]);
    await takeBack.idle();

    const [ref, ...more] = await purges.pending();
    expect(more).toEqual([]);
    expect(ref).toMatch(/^takeback_/);
    expect(await purges.status(ref!)).toEqual({
      status: 'scheduled',
      purgeBy: clock.now().getTime() + 2 * EVENTS_PURGE_EVERY_MS,
    });
    expect(fileHas(LATE)).toBe(true);

    expect(await purges.runScheduled()).toEqual({ purged: 1 });
    expect(fileHas(LATE)).toBe(false);
  });

  it('records no purge when the write left no events', async () => {
    const purges = createEventPurges({ state, events, clock, logger: silentLogger() });
    const asked: string[] = [];
    const takeBack = createTakeBack({
      registry,
      purges: { afterDeletion: (ref) => (asked.push(ref), purges.afterDeletion(ref)) },
      logger: silentLogger(),
    });
    await takeBack.eraseAgain(['sub-never-seen']);
    await takeBack.idle();
    expect(asked).toEqual([]);
    expect(erasedBy).toEqual({ profiles: ['sub-never-seen'], consent: ['sub-never-seen'] });
  });

  it('a failing purge is logged, not thrown at the writer', async () => {
    const errors: string[] = [];
    const logger = { ...silentLogger(), error: (_: unknown, msg?: string) => void errors.push(msg ?? '') };
    const takeBack = createTakeBack({
      registry,
      purges: { afterDeletion: () => Promise.reject(new Error('disk full')) },
      logger: logger,
    });
    await expect(takeBack.eraseAgain([LATE])).resolves.toBeUndefined();
    await takeBack.idle();
    expect(errors).toEqual(['purge after taking back erased events failed']);
    expect(await events.eventsOfSubjects([LATE])).toEqual([]);
  });
});
