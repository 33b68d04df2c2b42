/**
 * Behind a reverse proxy (docs/deploy.md) every connection comes from the proxy. With the proxy named in
 * `trustedProxies`, per-address limits apply to the client X-Forwarded-For names, so one attacker's failed
 * sign-ins behind the proxy do not lock every staff member out; without it the header is ignored, so a
 * client cannot escape its own bucket by writing one. A proxy that writes `Forwarded` (RFC 7239) instead is
 * read through that header alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff, post, type Harness, type Staff, startHarness } from './harness.ts';

const PROXY = '10.0.0.5';
const ATTACKER = '198.51.100.66';
const COLLEAGUE = '198.51.100.10';
// login.ip: 20 attempts, then 429 (auth.service.ts).
const LOGIN_IP_CAPACITY = 20;

let behindProxy: Harness;
let direct: Harness;
let staffBehind: Staff;
let staffDirect: Staff;

beforeAll(async () => {
  [behindProxy, direct] = await Promise.all([startHarness({ trustedProxies: [PROXY] }), startHarness()]);
  staffBehind = await createStaff(behindProxy, 'analyst');
  staffDirect = await createStaff(direct, 'analyst');
});

afterAll(async () => {
  await Promise.all([behindProxy.close(), direct.close()]);
});

const login = (h: Harness, email: string, password: string, peer: string, forwardedFor: string) =>
  post(h, '/v1/auth/login', { email, password }, { 'x-forwarded-for': forwardedFor }, peer);

async function exhaustLoginLimit(h: Harness, peer: string, forwardedFor: (i: number) => string) {
  const statuses: number[] = [];
  for (let i = 0; i <= LOGIN_IP_CAPACITY; i++)
    statuses.push((await login(h, `nobody${i}@example.test`, 'guess', peer, forwardedFor(i))).status);
  return statuses;
}

describe('trusted proxies', () => {
  it("limits sign-ins per client behind a trusted proxy: an attacker's failures do not lock out a colleague", async () => {
    const statuses = await exhaustLoginLimit(behindProxy, PROXY, () => ATTACKER);
    expect(statuses.slice(0, LOGIN_IP_CAPACITY).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // A header the attacker writes itself is read only as far as the proxy's own entry.
    expect(
      (await login(behindProxy, 'nobody@example.test', 'guess', PROXY, `${COLLEAGUE}, ${ATTACKER}`)).status,
    ).toBe(429);
    const colleague = await login(behindProxy, staffBehind.email, staffBehind.password, PROXY, COLLEAGUE);
    expect(colleague.status).toBe(200);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    // Untrusted peer, a new forged client on every attempt: still one bucket, the peer's.
    const statuses = await exhaustLoginLimit(direct, '203.0.113.50', (i) => `198.51.100.${i + 1}`);
    expect(statuses.at(-1)).toBe(429);
    const sameProxyOtherClient = await login(
      direct,
      staffDirect.email,
      staffDirect.password,
      '203.0.113.50',
      COLLEAGUE,
    );
    expect(sameProxyOtherClient.status).toBe(429);
    // Another peer has a bucket of its own.
    expect(
      (await login(direct, staffDirect.email, staffDirect.password, '203.0.113.51', COLLEAGUE)).status,
    ).toBe(200);
  });

  it('reads Forwarded (RFC 7239) alone when configured: a forged X-Forwarded-For picks no bucket', async () => {
    const h = await startHarness({ trustedProxies: [PROXY], forwardedHeader: 'forwarded' });
    try {
      const staff = await createStaff(h, 'analyst');
      const statuses: number[] = [];
      for (let i = 0; i <= LOGIN_IP_CAPACITY; i++) {
        const forged = { forwarded: `for=${ATTACKER};proto=https`, 'x-forwarded-for': `198.51.100.${i + 1}` };
        const r = await post(
          h,
          '/v1/auth/login',
          { email: `n${i}@example.test`, password: 'guess' },
          forged,
          PROXY,
        );
        statuses.push(r.status);
      }
      expect(statuses.slice(0, LOGIN_IP_CAPACITY).every((s) => s === 401)).toBe(true);
      expect(statuses.at(-1)).toBe(429);
      const colleague = await post(
        h,
        '/v1/auth/login',
        { email: staff.email, password: staff.password },
        { forwarded: `for="${COLLEAGUE}:51234";proto=https`, 'x-forwarded-for': ATTACKER },
        PROXY,
      );
      expect(colleague.status).toBe(200);
    } finally {
      await h.close();
    }
  });
});
