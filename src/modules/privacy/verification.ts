/**
 * One-time codes that verify a data-subject request: six digits from the CSPRNG, stored only as an HMAC,
 * valid for a short time and for a few attempts, after which the request needs a new code.
 */
import { randomInt } from 'node:crypto';
import { constantTimeEqual, hmacSha256 } from '../../kernel/crypto.ts';

export const CODE_TTL_MS = 10 * 60 * 1000;
export const CODE_MAX_ATTEMPTS = 5;
/** Codes the public form sends to one shopper per hour; more requests are recorded but send nothing. */
export const CODE_SENDS_PER_HOUR = 5;

export function newCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** Bound to the request, so a code for one request never verifies another. */
export function codeHash(secret: string, requestId: string, code: string): string {
  return hmacSha256(Buffer.from(secret, 'base64'), `dsar-code\u0000${requestId}\u0000${code}`).toString(
    'base64url',
  );
}

export type CodeState = { hash: string; expiresAt: number; attempts: number; maxAttempts: number };

export type CodeCheck = 'ok' | 'wrong' | 'expired' | 'locked';

/** Decides a verification attempt; `attempts` already counts earlier failures. */
export function checkCode(
  state: CodeState,
  secret: string,
  requestId: string,
  code: string,
  now: number,
): CodeCheck {
  if (state.attempts >= state.maxAttempts) return 'locked';
  if (now >= state.expiresAt) return 'expired';
  if (!/^\d{6}$/.test(code)) return 'wrong';
  return constantTimeEqual(codeHash(secret, requestId, code), state.hash) ? 'ok' : 'wrong';
}
