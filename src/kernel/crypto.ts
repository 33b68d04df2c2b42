/**
 * Cryptography for personal data.
 * - Envelope encryption: each subject has a random 256-bit data key; personal data is sealed with it
 *   (AES-256-GCM); the data key is stored only wrapped by the key-encryption key (KEK). Destroying a
 *   subject's wrapped key makes every ciphertext of that subject unreadable (crypto-shredding).
 * - KEK rotation re-wraps data keys without touching the data they protect.
 * - Pseudonyms are HMAC-SHA-256 of an identifier under the shop's pseudonym key: stable, not reversible
 *   without the key, and different for every installation.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto';
import { AppError } from './errors.ts';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A KEK's id is derived from the key itself, so wrapped keys name the KEK that can open them. */
export function kekId(kek: Buffer): string {
  return createHash('sha256').update('candor-kek-id').update(kek).digest('base64url').slice(0, 8);
}

export type KeyRing = {
  /** Id of the KEK new data keys are wrapped with. */
  readonly primaryId: string;
  wrap(dataKey: Buffer): string;
  unwrap(wrapped: string): Buffer;
  /** True when `wrapped` is not under the primary KEK and should be re-wrapped. */
  needsRewrap(wrapped: string): boolean;
  /** Re-wraps under the primary KEK (KEK rotation); the data key itself does not change. */
  rewrap(wrapped: string): string;
};

/** `kek` is the primary key; `previous` are older KEKs still accepted for unwrapping. Keys are base64. */
export function createKeyRing(kek: string, previous: readonly string[] = []): KeyRing {
  const primary = Buffer.from(kek, 'base64');
  if (primary.length !== 32)
    throw new AppError('config_invalid', 'The KEK must be 32 bytes, base64-encoded.');
  const keys = new Map<string, Buffer>();
  for (const k of previous) keys.set(kekId(Buffer.from(k, 'base64')), Buffer.from(k, 'base64'));
  const primaryId = kekId(primary);
  keys.set(primaryId, primary);

  const wrap = (dataKey: Buffer): string =>
    `k1.${primaryId}.${seal(primary, dataKey, Buffer.from(`kek:${primaryId}`)).toString('base64url')}`;
  const parse = (wrapped: string) => {
    const [v, id, body] = wrapped.split('.');
    if (v !== 'k1' || !id || !body) throw new AppError('internal', 'Malformed wrapped data key.');
    return { id, body };
  };
  const unwrap = (wrapped: string): Buffer => {
    const { id, body } = parse(wrapped);
    const key = keys.get(id);
    if (!key) {
      throw new AppError(
        'config_invalid',
        `Data key is wrapped by KEK ${id}, which is not configured (add it to previousKeks).`,
      );
    }
    return open(key, Buffer.from(body, 'base64url'), Buffer.from(`kek:${id}`));
  };
  return {
    primaryId,
    wrap,
    unwrap,
    needsRewrap: (wrapped) => parse(wrapped).id !== primaryId,
    rewrap: (wrapped) => wrap(unwrap(wrapped)),
  };
}

export function newDataKey(): Buffer {
  return randomBytes(32);
}

/** AES-256-GCM: iv ‖ tag ‖ ciphertext. `aad` binds the ciphertext to its context (e.g. subject + field). */
export function seal(key: Buffer, plaintext: Buffer | string, aad?: Buffer | string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (aad !== undefined) cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ct]);
}

export function open(key: Buffer, sealed: Buffer, aad?: Buffer | string): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new AppError('internal', 'Ciphertext too short.');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  if (aad !== undefined) decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
}

export type Pseudonymizer = (namespace: string, value: string) => string;

/** HMAC-SHA-256 pseudonyms, namespaced so a customer id and a device id never collide. */
export function createPseudonymizer(key: string): Pseudonymizer {
  // A KeyObject, not a Buffer: Node re-imports a raw key on every createHmac, which costs several times the HMAC.
  const k = createSecretKey(Buffer.from(key, 'base64'));
  return (namespace, value) =>
    createHmac('sha256', k).update(namespace).update('\u0000').update(value).digest('base64url').slice(0, 32);
}

export function hmacSha256(key: Buffer | string, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A URL-safe random token with at least `bytes` bytes of entropy from the CSPRNG. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Ed25519 signatures for receipts and audit checkpoints. */
export function signDetached(privateKeyPem: string, data: string | Buffer): string {
  return sign(null, Buffer.from(data), createPrivateKey(privateKeyPem)).toString('base64url');
}

export function publicKeyPem(privateKeyPem: string): string {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ format: 'pem', type: 'spki' }).toString();
}

export function verifyDetached(publicPem: string, data: string | Buffer, signature: string): boolean {
  try {
    return verify(null, Buffer.from(data), createPublicKey(publicPem), Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

/** Canonical JSON (sorted keys) so hashes and signatures do not depend on property order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
