/** What the erased subjects answer on every state store (SQLite here, PostgreSQL in the server suites). */
import { expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import type { StateStore } from '../../storage/ports.ts';
import { CLOCK_SKEW_MS, createErasedSubjects, ERASED_MEMORY_MS } from './erased-subjects.ts';
import { privacyDb, privacyMigrations } from './store.ts';

export function erasedSubjectsContract(open: () => Promise<StateStore>): void {
  const opened = async () => {
    const state = await open();
    await state.migrate(privacyMigrations(state.dialect));
    return state;
  };
  it('are known to every process on the store while erased and for a while after, by a digest', async () => {
    const clock = fixedClock('2025-03-01T00:00:00Z');
    const state = await opened();
    const here = createErasedSubjects({ state, clock });
    const elsewhere = createErasedSubjects({ state, clock });
    await elsewhere.record(['sub-erased-1', 'sub-erased-2', 'sub-erased-1']);
    expect(await here.among(['sub-erased-1', 'sub-kept', null, 'sub-erased-1'])).toEqual(
      new Set(['sub-erased-1']),
    );
    expect(await here.among([])).toEqual(new Set());
    const rows = await privacyDb(state).selectFrom('privacy_erased').selectAll().execute();
    expect(rows).toHaveLength(2);
    expect(JSON.stringify(rows)).not.toContain('sub-erased');
    // Running erasures are named however long they take; completed ones for ERASED_MEMORY_MS after.
    clock.advance(ERASED_MEMORY_MS * 2);
    expect(await here.among(['sub-erased-1', 'sub-erased-2'])).toEqual(
      new Set(['sub-erased-1', 'sub-erased-2']),
    );
    await elsewhere.complete(['sub-erased-1', 'sub-erased-2']);
    clock.advance(ERASED_MEMORY_MS - 1_000);
    await here.record(['sub-erased-2']);
    await here.complete(['sub-erased-2']);
    clock.advance(2_000);
    expect(await here.among(['sub-erased-1', 'sub-erased-2'])).toEqual(new Set(['sub-erased-2']));
    // Past the memory, the rows go too.
    clock.advance(ERASED_MEMORY_MS + 60_000);
    expect(await here.among(['sub-erased-2'])).toEqual(new Set());
    expect(await privacyDb(state).selectFrom('privacy_erased').selectAll().execute()).toEqual([]);
  });

  it('say what ingestion must take back: prepared before the erasure completed, or while it runs', async () => {
    const clock = fixedClock('2025-03-01T00:00:00Z');
    const state = await opened();
    const erased = createErasedSubjects({ state, clock });
    const t0 = clock.now().getTime();
    expect(await erased.anyErasedSince(t0)).toBe(false);
    await erased.record(['sub-a']);
    // Running: whatever the time of preparation.
    expect(await erased.anyErasedSince(t0 + 3_600_000)).toBe(true);
    expect(await erased.erasedSince(['sub-a', 'sub-b'], t0 + 3_600_000)).toEqual(new Set(['sub-a']));
    clock.advance(30_000);
    await erased.complete(['sub-a']);
    const done = clock.now().getTime();
    // Prepared before it completed (within the clocks' skew too): taken back. Prepared later: kept.
    expect(await erased.erasedSince(['sub-a'], done - 20_000)).toEqual(new Set(['sub-a']));
    expect(await erased.erasedSince(['sub-a'], done + CLOCK_SKEW_MS - 1)).toEqual(new Set(['sub-a']));
    expect(await erased.erasedSince(['sub-a'], done + CLOCK_SKEW_MS + 1)).toEqual(new Set());
    expect(await erased.anyErasedSince(done + CLOCK_SKEW_MS + 1)).toBe(false);
    expect(await erased.anyErasedSince(done)).toBe(true);
  });

  it('answers for more subjects than one query may name', async () => {
    const state = await opened();
    const erased = createErasedSubjects({ state, clock: fixedClock('2025-03-01T00:00:00Z') });
    const many = Array.from({ length: 1_200 }, (_, i) => `sub-${i}`);
    await erased.record(many.filter((_, i) => i % 3 === 0));
    expect((await erased.among(many)).size).toBe(400);
  });
}
