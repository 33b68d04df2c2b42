import { describe, expect, it } from 'vitest';
import { createPseudonymizer } from '../../kernel/crypto.ts';
import { cachePseudonyms } from './pseudonym-cache.ts';

describe('pseudonym cache', () => {
  const key = Buffer.alloc(32, 3).toString('base64');
  const plain = createPseudonymizer(key);

  it('gives exactly the pseudonyms of the keyed HMAC, computing each id once while it is cached', () => {
    let calls = 0;
    const cached = cachePseudonyms((ns, v) => {
      calls++;
      return plain(ns, v);
    }, 10);
    expect(cached('device', 'dev-1')).toBe(plain('device', 'dev-1'));
    expect(cached('device', 'dev-1')).toBe(plain('device', 'dev-1'));
    // Namespaces stay apart: the same id as a customer id has another pseudonym.
    expect(cached('user', 'dev-1')).toBe(plain('user', 'dev-1'));
    expect(cached('user', 'dev-1')).not.toBe(cached('device', 'dev-1'));
    expect(calls).toBe(2);
  });

  it('stays within its capacity: the oldest id is recomputed after others pushed it out', () => {
    let calls = 0;
    const cached = cachePseudonyms((ns, v) => {
      calls++;
      return plain(ns, v);
    }, 2);
    cached('device', 'a');
    cached('device', 'b');
    cached('device', 'c');
    expect(calls).toBe(3);
    cached('device', 'c');
    expect(calls).toBe(3);
    expect(cached('device', 'a')).toBe(plain('device', 'a'));
    expect(calls).toBe(4);
  });

  it('never caches very long values (a hostile request cannot fill memory through it)', () => {
    let calls = 0;
    const cached = cachePseudonyms((ns, v) => {
      calls++;
      return plain(ns, v);
    }, 10);
    const long = 'x'.repeat(10_000);
    cached('device', long);
    cached('device', long);
    expect(calls).toBe(2);
  });
});
