import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeEvent } from '../../contract/event-store.contract.ts';
import { EVENT_COLUMNS } from '../../event-columns.ts';
import type { EventRecord } from '../../ports.ts';
import { rowsJson, rowsOfJson, rowValues } from './event-rows.ts';

describe('event rows as positional JSON', () => {
  it('writes every field in the column order of the table', () => {
    // A distinct value per field, so a swapped or missing one shows.
    const e = Object.fromEntries(EVENT_COLUMNS.map((c, i) => [c.field, `v${i}`])) as unknown as EventRecord;
    const values = rowValues(e);
    expect(values).toHaveLength(EVENT_COLUMNS.length);
    expect(values).toEqual(EVENT_COLUMNS.map((c) => e[c.field]));
  });

  it('reads back what it wrote, for any text and number', () => {
    const text = fc.option(fc.string({ unit: 'grapheme', maxLength: 20 }), { nil: null });
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            path: text,
            query: text,
            props: fc.string({ maxLength: 20 }),
            revenue: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
            ts: fc.integer({ min: 0, max: 2 ** 45 }),
          }),
          { maxLength: 5 },
        ),
        (overrides) => {
          const rows = overrides.map((o, i) => makeEvent(i, o));
          expect(rowsOfJson(rowsJson(rows).toString('utf8'))).toEqual(
            // JSON has no negative zero.
            rows.map((r) => (Object.is(r.revenue, -0) ? { ...r, revenue: 0 } : r)),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('replaces a lone surrogate, which UTF-8 cannot carry, with U+FFFD', () => {
    const [row] = rowsOfJson(rowsJson([makeEvent(1, { query: 'a\ud800b' })]).toString('utf8'));
    expect(row!.query).toBe('a\ufffdb');
  });

  it('reads records of row objects, as journals written before hold them', () => {
    const rows = [makeEvent(1), makeEvent(2, { revenue: 12.5 })];
    expect(rowsOfJson(JSON.stringify(rows))).toEqual(rows);
    expect(rowsOfJson('[]')).toEqual([]);
  });
});
