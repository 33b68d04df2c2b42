import { describe, expect, it } from 'vitest';
import { ARGON2_PARAMS, hashPassword, needsRehash, passwordProblem, verifyPassword } from './password.ts';

describe('password policy', () => {
  it('requires 12 to 128 characters', () => {
    expect(passwordProblem('short pass1')).toBe('too_short');
    expect(passwordProblem('x'.repeat(129))).toBe('too_long');
    expect(passwordProblem('tangerine orbit lantern')).toBeNull();
    expect(passwordProblem('🦊'.repeat(12))).toBe('common');
    expect(passwordProblem('ñandú café señor')).toBeNull();
  });

  it('refuses common and breached passwords, with trivial decorations too', () => {
    for (const p of [
      'password1234',
      'qwertyuiop123',
      'iloveyou2024!',
      'Password123!!',
      '1q2w3e4r5t6y',
      '123456789012',
      'aaaaaaaaaaaa',
      'abcabcabcabc',
      'qwertyuiopas',
      '!!!letmein2024!!!',
      'dragon123456',
    ]) {
      expect({ p, problem: passwordProblem(p) }).toEqual({ p, problem: 'common' });
    }
  });

  it('refuses a password containing the email name', () => {
    expect(passwordProblem('maria.lopez-is-great', { email: 'maria.lopez@shop.test' })).toBe(
      'contains_email',
    );
  });

  it('hashes with argon2id m=19456 t=2 p=1 and verifies', async () => {
    const h = await hashPassword('tangerine orbit lantern');
    expect(h).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(h, 'tangerine orbit lantern')).toBe(true);
    expect(await verifyPassword(h, 'tangerine orbit lanterns')).toBe(false);
    expect(await verifyPassword('not-a-hash', 'x')).toBe(false);
    expect(needsRehash(h)).toBe(false);
  });

  it('asks for a rehash when the stored parameters are weaker than today', async () => {
    const weak = await hashPassword('tangerine orbit lantern', {
      memoryCost: 4096,
      timeCost: 1,
      parallelism: 1,
    });
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash(weak, { ...ARGON2_PARAMS, memoryCost: 4096, timeCost: 1 })).toBe(false);
  });
});
