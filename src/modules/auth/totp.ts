/**
 * TOTP (RFC 6238: SHA-1, 6 digits, 30 s) with a tolerance of one step either way. A code is usable once:
 * the caller stores the time step of the last accepted code and passes it back as `afterStep`.
 */
import { generateSecret, generateURI, generate, verify } from 'otplib';

export const TOTP_PERIOD = 30;
export const TOTP_ISSUER = 'Candor';

export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export function totpUri(secret: string, label: string): string {
  return generateURI({
    issuer: TOTP_ISSUER,
    label,
    secret,
    period: TOTP_PERIOD,
    digits: 6,
    algorithm: 'sha1',
  });
}

export async function totpCode(secret: string, atMs: number): Promise<string> {
  return generate({ secret, epoch: Math.floor(atMs / 1000), period: TOTP_PERIOD });
}

/** The accepted code's time step, or null. Codes at or before `afterStep` are replays and refused. */
export async function verifyTotp(
  secret: string,
  code: string,
  atMs: number,
  afterStep: number | null,
): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  try {
    const result = await verify({
      secret,
      token: code,
      epoch: Math.floor(atMs / 1000),
      period: TOTP_PERIOD,
      epochTolerance: TOTP_PERIOD,
      ...(afterStep !== null ? { afterTimeStep: afterStep } : {}),
    });
    return result.valid && 'timeStep' in result ? result.timeStep : null;
  } catch {
    return null;
  }
}
