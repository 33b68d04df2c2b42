import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeEvent } from '../../contract/event-store.contract.ts';
import { makeTempDir } from '../../testing.ts';
import { openDuckDbEventStore } from './duckdb.event-store.ts';
import { createIdFilter } from './recent-ids.ts';

describe('recent event-id filter', () => {
  it('never forgets an id, and rarely claims one it never saw', () => {
    const filter = createIdFilter();
    for (let i = 0; i < 50_000; i++) filter.add(`seen-${i}`);
    for (let i = 0; i < 50_000; i++) expect(filter.mightContain(`seen-${i}`)).toBe(true);
    let falsePositives = 0;
    for (let i = 0; i < 50_000; i++) if (filter.mightContain(`never-${i}`)) falsePositives++;
    expect(falsePositives).toBeLessThan(50);
    // `add` answers what `mightContain` would have before it.
    expect(filter.add('fresh-id')).toBe(false);
    expect(filter.add('fresh-id')).toBe(true);
    expect(filter.add('seen-7')).toBe(true);
  });
});

describe('DuckDB dedupe with the id filter', () => {
  it('skips ids stored before a restart, re-stores an erased one, and checks old-dated events exactly', async () => {
    const dir = makeTempDir('candor-duckdb-ids');
    const file = path.join(dir.path, 'events.duckdb');
    try {
      const now = Date.now();
      const first = [0, 1, 2].map((i) =>
        makeEvent(i, { eventId: `e-${i}`, subjectId: `s-${i}`, ts: now - i }),
      );
      let store = await openDuckDbEventStore({ file });
      expect(await store.append(first)).toEqual({ inserted: 3, duplicates: 0 });
      await store.close();

      store = await openDuckDbEventStore({ file });
      // The same messages again (a client retry after the restart), plus one new event.
      const retry = [...first, makeEvent(10, { eventId: 'e-new', subjectId: 's-new', ts: now })];
      expect(await store.append(retry)).toEqual({ inserted: 1, duplicates: 3 });
      // Erased events are gone; the same id may be stored again.
      expect(await store.deleteSubjects(['s-1'])).toBe(1);
      expect(await store.append([first[1]!])).toEqual({ inserted: 1, duplicates: 0 });
      // An event dated three days ago, sent twice: the exact lookup finds the first copy.
      const old = makeEvent(20, { eventId: 'e-old', subjectId: 's-old', ts: now - 3 * 24 * 3600 * 1000 });
      expect(await store.append([old])).toEqual({ inserted: 1, duplicates: 0 });
      expect(await store.append([old])).toEqual({ inserted: 0, duplicates: 1 });
      expect(await store.count()).toBe(5);
      await store.close();
    } finally {
      dir.cleanup();
    }
  });
});
