import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseTtl, signShopperToken, verifyShopperToken } from './shopper-token.ts';

const secret = randomBytes(32).toString('base64');
const t0 = Date.parse('2025-01-01T00:00:00Z');

describe('shopper tokens', () => {
  it('round-trips the customer id until expiry', async () => {
    const token = await signShopperToken(secret, 'cust-42', 900, t0);
    expect(await verifyShopperToken(secret, token, t0 + 1000)).toBe('cust-42');
    expect(await verifyShopperToken(secret, token, t0 + 901_000)).toBeNull();
  });

  it('refuses another secret and tampered tokens', async () => {
    const token = await signShopperToken(secret, 'cust-42', 900, t0);
    expect(await verifyShopperToken(randomBytes(32).toString('base64'), token, t0)).toBeNull();
    expect(await verifyShopperToken(secret, `${token}x`, t0)).toBeNull();
    expect(await verifyShopperToken(secret, 'not.a.jwt', t0)).toBeNull();
  });

  it('parses ttl flags', () => {
    expect(parseTtl('15m')).toBe(900);
    expect(parseTtl('2h')).toBe(7200);
    expect(parseTtl('90')).toBe(90);
    expect(parseTtl('soon')).toBeNull();
  });
});
