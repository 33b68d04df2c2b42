import { describe, expect, it } from 'vitest';
import { createExpiringSet } from './expiring-set.ts';

describe('expiring set', () => {
  it('remembers keys for the time given, and forgets them after', () => {
    let t = 1_000;
    const set = createExpiringSet(100, () => t);
    set.add(['a', 'b']);
    expect([set.has('a'), set.has('b'), set.has('c'), set.has(null)]).toEqual([true, true, false, false]);
    t += 99;
    expect(set.has('a')).toBe(true);
    t += 1;
    expect(set.has('a')).toBe(false);
    // Adding again renews a key.
    set.add(['a']);
    t += 50;
    expect(set.has('a')).toBe(true);
  });
});
