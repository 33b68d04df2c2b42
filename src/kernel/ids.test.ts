import { describe, expect, it } from 'vitest';
import { newId, uuidv7 } from './ids.ts';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('is a version 7 UUID whose first 48 bits are the time in ms', () => {
    const at = Date.UTC(2025, 5, 1, 12, 0, 0, 123);
    const id = uuidv7(at);
    expect(id).toMatch(V7);
    expect(parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(at);
  });

  it('never repeats within one millisecond, across several refills of the random pool', () => {
    const at = Date.now();
    const ids = Array.from({ length: 2_000 }, () => uuidv7(at));
    expect(new Set(ids).size).toBe(ids.length);
    // The random part (74 bits) differs too, not only some bits of it.
    expect(new Set(ids.map((id) => id.slice(-12))).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(V7);
  });

  it('sorts by creation time', () => {
    const ids = [1, 2, 3].map((ms) => uuidv7(Date.UTC(2025, 0, 1) + ms));
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('newId', () => {
  it('prefixes the id without dashes', () => {
    expect(newId('src')).toMatch(/^src_[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
  });
});
