/**
 * Issue 5: password reset never bypasses MFA. The token reaches the shop's mailer only through the sealed
 * staff outbox (a server key with `mail:send`), is stored hashed, expires, is single use, needs a
 * current TOTP or recovery code, ends every session, and is audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/modules/auth/totp.ts';
import { as, createStaff, fromIp, post, signIn, startHarness, type Harness, type Staff } from './harness.ts';

let h: Harness;
let mailerKey: string;

beforeAll(async () => {
  h = await startHarness();
  const k = await h.auth.keys.createServerKey({ name: 'mailer', scopes: ['mail:send'] }, 'system');
  mailerKey = k.key;
});

afterAll(async () => {
  await h.close();
});

type Message = { id: string; kind: string; to: string; token: string; expiresAt: number };

async function claim(key = mailerKey): Promise<{ status: number; messages: Message[] }> {
  const res = await h.candor.app.request(
    '/v1/auth/outbox/claim',
    { method: 'POST', headers: { authorization: `Bearer ${key}` } },
    fromIp('192.0.2.90'),
  );
  const body = (await res.json()) as { messages?: Message[] };
  return { status: res.status, messages: body.messages ?? [] };
}

/** A staff member who has signed in once (so the authenticator is confirmed). */
async function enrolled(role = 'analyst'): Promise<Staff> {
  const s = await createStaff(h, role);
  await signIn(h, s);
  return s;
}

async function requestReset(email: string, ip = '192.0.2.91'): Promise<Message | undefined> {
  const res = await post(h, '/v1/auth/password-reset', { email }, {}, ip);
  expect(res.status).toBe(202);
  expect(await res.json()).toEqual({ accepted: true });
  return (await claim()).messages.find((m) => m.to === email);
}

const NEW_PASSWORD = 'a brand new long passphrase';

describe('password reset', () => {
  it('answers the same for unknown accounts and sends nothing for them', async () => {
    expect(await requestReset('nobody@shop.test')).toBeUndefined();
  });

  it('token + new password + TOTP resets; sessions end; the old password stops working; audited', async () => {
    const s = await enrolled();
    const session = await signIn(h, s);
    const msg = await requestReset(s.email);
    expect(msg).toMatchObject({ kind: 'staff.password_reset', to: s.email });
    expect(msg!.token.length).toBeGreaterThanOrEqual(40);
    // Stored hashed and sealed: the token is nowhere in the database in clear.
    const db = h.candor.stores.state.db;
    const resets = await db.selectFrom('staff_password_resets').selectAll().execute();
    expect(JSON.stringify(resets)).not.toContain(msg!.token);
    // Claimed messages are gone: a second claim returns nothing for this account.
    expect((await claim()).messages.find((m) => m.to === s.email)).toBeUndefined();

    const code = await totpCode(s.secret, h.clock.now().getTime());
    const ok = await post(h, '/v1/auth/password-reset/confirm', {
      token: msg!.token,
      newPassword: NEW_PASSWORD,
      code,
    });
    expect(ok.status).toBe(200);
    expect((await h.candor.app.request('/v1/auth/me', { headers: as(session, false) })).status).toBe(401);
    expect((await post(h, '/v1/auth/login', { email: s.email, password: s.password })).status).toBe(401);
    h.clock.advance(30_000);
    await signIn(h, { ...s, password: NEW_PASSWORD });
    const audit = await h.audit.service.list({ action: 'auth.password_reset' });
    expect(audit.some((e) => e.target === `staff:${s.id}` && e.outcome === 'success')).toBe(true);
    // Single use.
    h.clock.advance(30_000);
    const again = await post(h, '/v1/auth/password-reset/confirm', {
      token: msg!.token,
      newPassword: 'yet another long passphrase',
      code: await totpCode(s.secret, h.clock.now().getTime()),
    });
    expect(again.status).toBe(401);
  });

  it('never without the second factor: no code, a wrong code, a replayed code are all refused', async () => {
    const s = await enrolled();
    const msg = (await requestReset(s.email))!;
    const noCode = await post(h, '/v1/auth/password-reset/confirm', {
      token: msg.token,
      newPassword: NEW_PASSWORD,
    });
    expect(noCode.status).toBe(400);
    const wrong = await post(h, '/v1/auth/password-reset/confirm', {
      token: msg.token,
      newPassword: NEW_PASSWORD,
      code: '000000',
    });
    expect(wrong.status).toBe(401);
    // The code that signed in (in enrolled) cannot be used again within its time step window.
    h.clock.advance(-30_000);
    const replay = await post(h, '/v1/auth/password-reset/confirm', {
      token: msg.token,
      newPassword: NEW_PASSWORD,
      code: await totpCode(s.secret, h.clock.now().getTime()),
    });
    h.clock.advance(30_000);
    expect(replay.status).toBe(401);
    expect((await post(h, '/v1/auth/login', { email: s.email, password: s.password })).status).toBe(200);
  });

  it('a recovery code works instead of TOTP, once', async () => {
    const s = await createStaff(h, 'support');
    // The first sign-in returns the recovery codes.
    const login = await post(h, '/v1/auth/login', { email: s.email, password: s.password });
    const { challengeToken } = (await login.json()) as { challengeToken: string };
    const verify = await post(h, '/v1/auth/mfa/verify', {
      challengeToken,
      code: await totpCode(s.secret, h.clock.now().getTime()),
    });
    const { recoveryCodes } = (await verify.json()) as { recoveryCodes: string[] };
    h.clock.advance(30_000);
    const msg = (await requestReset(s.email))!;
    const ok = await post(h, '/v1/auth/password-reset/confirm', {
      token: msg.token,
      newPassword: NEW_PASSWORD,
      recoveryCode: recoveryCodes[0],
    });
    expect(ok.status).toBe(200);
    const msg2 = (await requestReset(s.email))!;
    const reused = await post(h, '/v1/auth/password-reset/confirm', {
      token: msg2.token,
      newPassword: 'another long passphrase here',
      recoveryCode: recoveryCodes[0],
    });
    expect(reused.status).toBe(401);
  });

  it('expires after 15 minutes; a newer request invalidates the older token', async () => {
    const s = await enrolled();
    const old = (await requestReset(s.email))!;
    const fresh = (await requestReset(s.email))!;
    const code = await totpCode(s.secret, h.clock.now().getTime());
    expect(
      (
        await post(h, '/v1/auth/password-reset/confirm', {
          token: old.token,
          newPassword: NEW_PASSWORD,
          code,
        })
      ).status,
    ).toBe(401);
    h.clock.advance(16 * 60_000);
    expect(
      (
        await post(h, '/v1/auth/password-reset/confirm', {
          token: fresh.token,
          newPassword: NEW_PASSWORD,
          code: await totpCode(s.secret, h.clock.now().getTime()),
        })
      ).status,
    ).toBe(401);
  });

  it('a weak new password is refused without spending the token', async () => {
    const s = await enrolled();
    const msg = (await requestReset(s.email))!;
    const weak = await post(h, '/v1/auth/password-reset/confirm', {
      token: msg.token,
      newPassword: 'password1234',
      code: await totpCode(s.secret, h.clock.now().getTime()),
    });
    expect(weak.status).toBe(400);
  });

  it('is rate limited per account: 429 with Retry-After', async () => {
    const s = await enrolled();
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await post(h, '/v1/auth/password-reset', { email: s.email }, {}, `192.0.2.${120 + i}`);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses.slice(0, 3)).toEqual([202, 202, 202]);
    expect(statuses.at(-1)).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });

  it('only the mailer key reads the outbox: staff sessions, even owners, and other keys are refused', async () => {
    const owner = await createStaff(h, 'owner');
    const session = await signIn(h, owner);
    const asOwner = await h.candor.app.request(
      '/v1/auth/outbox/claim',
      { method: 'POST', headers: as(session) },
      fromIp('192.0.2.10'),
    );
    expect(asOwner.status).toBe(403);
    const other = await h.auth.keys.createServerKey({ name: 'reports', scopes: ['audit:read'] }, 'system');
    expect((await claim(other.key)).status).toBe(403);
    expect((await claim('sk_not_a_key_at_all_0000000000')).status).toBe(401);
  });

  it('no reset token or e-mail address reaches the logs', async () => {
    const s = await enrolled();
    const msg = (await requestReset(s.email))!;
    const all = h.logs.join('\n');
    expect(all).not.toContain(msg.token);
    expect(all).not.toContain('@shop.test');
    expect(all).not.toContain(NEW_PASSWORD);
  });
});
