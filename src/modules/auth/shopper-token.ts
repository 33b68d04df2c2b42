/**
 * Shopper tokens: short-lived HS256 JWTs a shop's backend mints for a logged-in shopper, `sub` being the
 * shop's customer id. Candor verifies signature, algorithm, issuer, audience and expiry; nothing else
 * about the shopper is trusted from the token.
 */
import { SignJWT, jwtVerify } from 'jose';

export const SHOPPER_TOKEN_ISSUER = 'candor-shop';
export const SHOPPER_TOKEN_AUDIENCE = 'candor-shopper';
/** Tokens asking to live longer than this are refused at minting and at verification. */
export const SHOPPER_TOKEN_MAX_TTL_S = 24 * 3600;

const key = (secret: string) => Buffer.from(secret, 'base64');

export async function signShopperToken(
  secret: string,
  userId: string,
  ttlSeconds: number,
  nowMs: number = Date.now(),
): Promise<string> {
  if (!userId || userId.length > 256) throw new RangeError('userId must be 1–256 characters');
  if (!(ttlSeconds > 0 && ttlSeconds <= SHOPPER_TOKEN_MAX_TTL_S))
    throw new RangeError(`ttl must be 1 s to ${SHOPPER_TOKEN_MAX_TTL_S} s`);
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuer(SHOPPER_TOKEN_ISSUER)
    .setAudience(SHOPPER_TOKEN_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + Math.floor(ttlSeconds))
    .sign(key(secret));
}

/** The shopper's customer id, or null for a token that is malformed, tampered, expired or too long-lived. */
export async function verifyShopperToken(
  secret: string,
  token: string,
  nowMs: number = Date.now(),
): Promise<string | null> {
  if (token.length > 4096) return null;
  try {
    const { payload } = await jwtVerify(token, key(secret), {
      algorithms: ['HS256'],
      issuer: SHOPPER_TOKEN_ISSUER,
      audience: SHOPPER_TOKEN_AUDIENCE,
      currentDate: new Date(nowMs),
      requiredClaims: ['sub', 'exp', 'iat'],
    });
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256) return null;
    if (
      typeof payload.exp !== 'number' ||
      typeof payload.iat !== 'number' ||
      payload.exp - payload.iat > SHOPPER_TOKEN_MAX_TTL_S
    )
      return null;
    return payload.sub;
  } catch {
    return null;
  }
}

/** Parses `15m`, `2h`, `900s`, `900` into seconds. */
export function parseTtl(text: string): number | null {
  const m = /^(\d{1,6})\s*([smhd]?)$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] === 'm' ? 60 : m[2] === 'h' ? 3600 : m[2] === 'd' ? 86400 : 1;
  return n * unit;
}
