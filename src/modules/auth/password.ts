/**
 * Staff passwords: argon2id with the OWASP parameters (m=19 MiB, t=2, p=1), 12–128 characters, checked
 * against a shipped list of common and breached passwords and keyboard patterns. No composition rules
 * and no forced rotation (ASVS 5.0 / NIST 800-63B).
 */
import { readFileSync } from 'node:fs';
import { hash, parseOptions, verify } from '@node-rs/argon2';

/** Argon2id parameters; raising any of them rehashes each password at its next successful login. */
export const ARGON2_PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
/** `Algorithm.Argon2id` (a const enum in the package's types, so spelled out here). */
const ARGON2ID = 2;

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;

export type PasswordParams = { memoryCost: number; timeCost: number; parallelism: number };

export async function hashPassword(
  password: string,
  params: PasswordParams = ARGON2_PARAMS,
): Promise<string> {
  return hash(password.normalize('NFKC'), { ...params, algorithm: ARGON2ID });
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password.normalize('NFKC'));
  } catch {
    return false;
  }
}

/** True when the stored hash was made with weaker parameters (or another variant) than today's. */
export function needsRehash(stored: string, params: PasswordParams = ARGON2_PARAMS): boolean {
  try {
    const o = parseOptions(stored);
    return (
      (o.algorithm as number) !== ARGON2ID ||
      o.memoryCost < params.memoryCost ||
      o.timeCost < params.timeCost ||
      o.parallelism !== params.parallelism
    );
  } catch {
    return true;
  }
}

let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  common ??= new Set(
    readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
  );
  return common;
}

const KEYBOARD_ROWS = ['1234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm', 'abcdefghijklmnopqrstuvwxyz'];

/** Passwords made of one short unit repeated ("abcabcabcabc") or one run along a keyboard row. */
function isPattern(p: string): boolean {
  for (let unit = 1; unit <= 4; unit++) {
    if (p.length % unit === 0 && p.slice(0, unit).repeat(p.length / unit) === p) return true;
  }
  const runs = KEYBOARD_ROWS.flatMap((r) => [r, [...r].reverse().join('')]);
  return runs.some((r) => {
    const doubled = r + r;
    return (
      p.length >= 6 &&
      [...p].every((ch) => r.includes(ch)) &&
      doubled.includes(p.slice(0, Math.min(p.length, r.length)))
    );
  });
}

export type PasswordProblem = 'too_short' | 'too_long' | 'common' | 'contains_email';

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: string, context: { email?: string } = {}): PasswordProblem | null {
  const length = [...password.normalize('NFKC')].length;
  if (length < PASSWORD_MIN) return 'too_short';
  if (length > PASSWORD_MAX) return 'too_long';
  const lower = password.toLowerCase();
  const list = commonPasswords();
  if (list.has(lower) || isPattern(lower)) return 'common';
  // A listed password with trivial additions ("password1234!!", "!!qwerty123456") is still that password.
  const core = lower.replace(/^[\d\W_]+|[\d\W_]+$/g, '');
  if (core.length > 0 && core.length < lower.length && (list.has(core) || isPattern(core))) return 'common';
  if (/^[\d\W_]+$/.test(lower) && new Set(lower).size <= 4) return 'common';
  const local = context.email?.split('@')[0]?.toLowerCase();
  if (local && local.length >= 4 && lower.includes(local)) return 'contains_email';
  return null;
}

export const PASSWORD_PROBLEM_MESSAGES: Record<PasswordProblem, string> = {
  too_short: `Choose a password of at least ${PASSWORD_MIN} characters; a passphrase of several words works well.`,
  too_long: `Choose a password of at most ${PASSWORD_MAX} characters.`,
  common: 'This password is too common or appears in breach lists; choose a longer, unique passphrase.',
  contains_email: 'Choose a password that does not contain your email address.',
};
