import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  canonicalJson,
  createKeyRing,
  createPseudonymizer,
  newDataKey,
  open,
  publicKeyPem,
  seal,
  signDetached,
  verifyDetached,
} from './crypto.ts';
import { generateSecrets } from './config.ts';

const key = () => randomBytes(32).toString('base64');

describe('envelope encryption', () => {
  it('seals and opens with the same key and context, and refuses another context', () => {
    const dk = newDataKey();
    const sealed = seal(dk, 'alice@example.test', 'subject-1:email');
    expect(sealed.includes(Buffer.from('alice'))).toBe(false);
    expect(open(dk, sealed, 'subject-1:email').toString()).toBe('alice@example.test');
    expect(() => open(dk, sealed, 'subject-2:email')).toThrow();
    expect(() => open(newDataKey(), sealed, 'subject-1:email')).toThrow();
  });

  it('wraps data keys under the KEK and rotates without touching data', () => {
    const oldKek = key();
    const ring1 = createKeyRing(oldKek);
    const dk = newDataKey();
    const wrapped = ring1.wrap(dk);
    const sealed = seal(dk, 'secret');

    const newKek = key();
    const ring2 = createKeyRing(newKek, [oldKek]);
    expect(ring2.needsRewrap(wrapped)).toBe(true);
    const rewrapped = ring2.rewrap(wrapped);
    expect(ring2.needsRewrap(rewrapped)).toBe(false);
    // The data sealed before rotation opens with the key unwrapped after rotation.
    expect(open(ring2.unwrap(rewrapped), sealed).toString()).toBe('secret');
    // Once the old KEK is retired, only re-wrapped keys open.
    const ring3 = createKeyRing(newKek);
    expect(() => ring3.unwrap(wrapped)).toThrow(/not configured/);
    expect(ring3.unwrap(rewrapped).equals(dk)).toBe(true);
  });

  it('rejects a KEK of the wrong size', () => {
    expect(() => createKeyRing(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });
});

describe('pseudonyms', () => {
  it('are stable per key and namespace, differ across keys and namespaces', () => {
    const p = createPseudonymizer(key());
    const q = createPseudonymizer(key());
    expect(p('user', 'c-1')).toBe(p('user', 'c-1'));
    expect(p('user', 'c-1')).not.toBe(p('anon', 'c-1'));
    expect(p('user', 'c-1')).not.toBe(q('user', 'c-1'));
    expect(p('user', 'c-1')).not.toContain('c-1');
  });
});

describe('signatures and canonical JSON', () => {
  it('signs and verifies; a changed byte fails', () => {
    const { signingKey } = generateSecrets();
    const pub = publicKeyPem(signingKey);
    const sig = signDetached(signingKey, 'receipt');
    expect(verifyDetached(pub, 'receipt', sig)).toBe(true);
    expect(verifyDetached(pub, 'receipT', sig)).toBe(false);
  });

  it('does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: 2 }));
  });
});
