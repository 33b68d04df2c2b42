/**
 * Attack suite against the HTTP API (issue 5): session fixation, CSRF, tampered and expired tokens,
 * TOTP replay, brute force until lockout, mass assignment, BFLA per role, injection and
 * prototype-pollution payloads, oversized inputs, argon2 parameters, and no secrets in logs.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import {
  ROLE_PERMISSIONS,
  shopperTokenCommand,
  sourceCreateCommand,
  STAFF_ROLES,
} from '../../src/modules/auth/index.ts';
import { totpCode } from '../../src/modules/auth/totp.ts';
import {
  as,
  createStaff,
  fromIp,
  post,
  signIn,
  startHarness,
  type Harness,
  type Session,
  type Staff,
} from './harness.ts';

let h: Harness;
let owner: Staff;
let ownerSession: Session;

beforeAll(async () => {
  h = await startHarness();
  owner = await createStaff(h, 'owner');
  ownerSession = await signIn(h, owner);
});

afterAll(async () => {
  await h.close();
});

// Some tests move the clock past the idle timeout; the owner signs in again when that happened.
beforeEach(async () => {
  if (
    (
      await h.candor.app.request(
        '/v1/auth/me',
        { headers: { cookie: ownerSession.cookie } },
        fromIp('192.0.2.10'),
      )
    ).status !== 200
  ) {
    ownerSession = await signIn(h, owner);
  }
});

const get = (path: string, headers: Record<string, string> = {}) =>
  h.candor.app.request(path, { headers }, fromIp('192.0.2.10'));
const send = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  h.candor.app.request(
    path,
    { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) },
    fromIp('192.0.2.10'),
  );

async function errorCode(res: Response): Promise<string> {
  const b = (await res.json()) as { error?: { code?: string; requestId?: string; message?: string } };
  expect(b.error?.requestId).toBeTruthy();
  expect(b.error?.message).toBeTruthy();
  return b.error!.code!;
}

describe('sign-in and sessions', () => {
  it('sets a __Host- session cookie that is Secure, HttpOnly, SameSite=Strict, Path=/', () => {
    const c = ownerSession.setCookie;
    expect(c).toMatch(/^__Host-candor_session=/);
    expect(c).toMatch(/;\s*Secure/i);
    expect(c).toMatch(/;\s*HttpOnly/i);
    expect(c).toMatch(/;\s*SameSite=Strict/i);
    expect(c).toMatch(/;\s*Path=\//i);
    expect(c).not.toMatch(/Domain=/i);
    // 32 random bytes, base64url: 256 bits.
    expect(Buffer.from(ownerSession.token, 'base64url').length).toBeGreaterThanOrEqual(16);
  });

  it('a password alone never yields a session', async () => {
    const res = await post(h, '/v1/auth/login', { email: owner.email, password: owner.password });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toBeNull();
    const body = (await res.json()) as { challengeToken: string };
    // The MFA challenge token is not a session.
    const me = await get('/v1/auth/me', { cookie: `__Host-candor_session=${body.challengeToken}` });
    expect(me.status).toBe(401);
  });

  it('session fixation: a cookie planted before sign-in is ignored and sign-in issues a new token', async () => {
    const planted = 'A'.repeat(43);
    expect((await get('/v1/auth/me', { cookie: `__Host-candor_session=${planted}` })).status).toBe(401);
    const login = await post(
      h,
      '/v1/auth/login',
      { email: owner.email, password: owner.password },
      { cookie: `__Host-candor_session=${planted}` },
    );
    const { challengeToken } = (await login.json()) as { challengeToken: string };
    const verify = await post(
      h,
      '/v1/auth/mfa/verify',
      { challengeToken, code: await totpCode(owner.secret, h.clock.now().getTime()) },
      { cookie: `__Host-candor_session=${planted}` },
    );
    expect(verify.status).toBe(200);
    const token = /__Host-candor_session=([^;]+)/.exec(verify.headers.get('set-cookie')!)![1];
    expect(token).not.toBe(planted);
    expect(token).not.toBe(ownerSession.token);
    h.clock.advance(30_000);
  });

  it('TOTP replay: a code that signed in once is refused the second time', async () => {
    const s = await createStaff(h, 'analyst');
    const code = await totpCode(s.secret, h.clock.now().getTime());
    const first = (await (
      await post(h, '/v1/auth/login', { email: s.email, password: s.password })
    ).json()) as { challengeToken: string };
    expect(
      (await post(h, '/v1/auth/mfa/verify', { challengeToken: first.challengeToken, code })).status,
    ).toBe(200);
    const second = (await (
      await post(h, '/v1/auth/login', { email: s.email, password: s.password })
    ).json()) as { challengeToken: string };
    const replay = await post(h, '/v1/auth/mfa/verify', { challengeToken: second.challengeToken, code });
    expect(replay.status).toBe(401);
    expect(await errorCode(replay)).toBe('invalid_credentials');
    h.clock.advance(30_000);
  });

  it('accepts a code one step old, refuses one two steps old', async () => {
    const s = await createStaff(h, 'analyst');
    const t = h.clock.now().getTime();
    const old2 = await totpCode(s.secret, t - 60_000);
    const c1 = (await (await post(h, '/v1/auth/login', { email: s.email, password: s.password })).json()) as {
      challengeToken: string;
    };
    expect(
      (await post(h, '/v1/auth/mfa/verify', { challengeToken: c1.challengeToken, code: old2 })).status,
    ).toBe(401);
    const old1 = await totpCode(s.secret, t - 30_000);
    expect(
      (await post(h, '/v1/auth/mfa/verify', { challengeToken: c1.challengeToken, code: old1 })).status,
    ).toBe(200);
    h.clock.advance(60_000);
  });

  it('CSRF: cookie-authenticated writes need the X-CSRF-Token header', async () => {
    const s = await signIn(h, await createStaff(h, 'marketer'));
    const none = await send('POST', '/v1/auth/logout', {}, as(s, false));
    expect(none.status).toBe(403);
    expect(await errorCode(none)).toBe('csrf_failed');
    const wrong = await send(
      'POST',
      '/v1/auth/logout',
      {},
      { cookie: s.cookie, 'x-csrf-token': ownerSession.csrf },
    );
    expect(wrong.status).toBe(403);
    expect((await get('/v1/auth/me', as(s, false))).status).toBe(200);
    expect((await send('POST', '/v1/auth/logout', {}, as(s))).status).toBe(204);
    expect((await get('/v1/auth/me', as(s, false))).status).toBe(401);
  });

  it('tampered session cookies are refused', async () => {
    const t = ownerSession.token;
    const flipped = (t[0] === 'A' ? 'B' : 'A') + t.slice(1);
    expect((await get('/v1/auth/me', { cookie: `__Host-candor_session=${flipped}` })).status).toBe(401);
    expect((await get('/v1/auth/me', { cookie: `__Host-candor_session=${t}x` })).status).toBe(401);
  });

  it('sessions end after the idle timeout and after logout-all', async () => {
    const staff = await createStaff(h, 'support');
    const a = await signIn(h, staff);
    const b = await signIn(h, staff);
    expect((await get('/v1/auth/me', as(a, false))).status).toBe(200);
    const res = await send('POST', '/v1/auth/logout-all', {}, as(a));
    expect(res.status).toBe(200);
    expect((await get('/v1/auth/me', as(b, false))).status).toBe(401);
    const c = await signIn(h, staff);
    h.clock.advance(31 * 60_000);
    expect((await get('/v1/auth/me', as(c, false))).status).toBe(401);
  });

  it('a password change revokes every other session and needs the current password', async () => {
    const staff = await createStaff(h, 'analyst');
    const a = await signIn(h, staff);
    const b = await signIn(h, staff);
    const wrong = await send(
      'POST',
      '/v1/auth/password',
      { currentPassword: 'not the password at all', newPassword: 'an entirely new passphrase' },
      as(a),
    );
    expect(wrong.status).toBe(401);
    const weak = await send(
      'POST',
      '/v1/auth/password',
      { currentPassword: staff.password, newPassword: 'password1234' },
      as(a),
    );
    expect(weak.status).toBe(400);
    const ok = await send(
      'POST',
      '/v1/auth/password',
      { currentPassword: staff.password, newPassword: 'an entirely new passphrase' },
      as(a),
    );
    expect(ok.status).toBe(200);
    expect((await get('/v1/auth/me', as(a, false))).status).toBe(401);
    expect((await get('/v1/auth/me', as(b, false))).status).toBe(401);
    const fresh = /__Host-candor_session=([^;]+)/.exec(ok.headers.get('set-cookie')!)![1];
    expect((await get('/v1/auth/me', { cookie: `__Host-candor_session=${fresh}` })).status).toBe(200);
  });

  it('disabling an account ends its sessions at once', async () => {
    const staff = await createStaff(h, 'marketer');
    const s = await signIn(h, staff);
    const res = await send('PATCH', `/v1/staff/${staff.id}`, { disabled: true }, as(ownerSession));
    expect(res.status).toBe(200);
    expect((await get('/v1/auth/me', as(s, false))).status).toBe(401);
    const login = await post(h, '/v1/auth/login', { email: staff.email, password: staff.password });
    expect(login.status).toBe(401);
  });
});

describe('brute force', () => {
  it('locks the account after repeated failures, with Retry-After, and audits it', async () => {
    const staff = await createStaff(h, 'analyst');
    let last: Response | undefined;
    for (let i = 0; i < 12; i++) {
      last = await post(
        h,
        '/v1/auth/login',
        { email: staff.email, password: `wrong guess number ${i}` },
        {},
        `198.51.100.${i + 1}`,
      );
    }
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    const right = await post(
      h,
      '/v1/auth/login',
      { email: staff.email, password: staff.password },
      {},
      '198.51.100.200',
    );
    expect(right.status).toBe(429);
    const lockouts = await h.audit.service.list({ action: 'auth.lockout' });
    expect(lockouts.some((e) => e.target === `staff:${staff.id}`)).toBe(true);
  });

  it('limits sign-in attempts per IP across accounts and raises a password-spraying alert', async () => {
    const ip = '203.0.113.77';
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      statuses.push(
        (await post(h, '/v1/auth/login', { email: `nobody${i}@shop.test`, password: 'Spring2025!!' }, {}, ip))
          .status,
      );
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    await h.auth.abuse.flush();
    const secOfficer = await signIn(h, await createStaff(h, 'security_officer'));
    const alerts = (await (await get('/v1/security/alerts', as(secOfficer, false))).json()) as {
      alerts: { kind: string }[];
    };
    expect(alerts.alerts.map((a) => a.kind)).toContain('password_spraying');
    expect((await h.audit.service.list({ action: 'security.alert' })).length).toBeGreaterThan(0);
  });

  it('five wrong codes end the MFA challenge', async () => {
    const staff = await createStaff(h, 'analyst');
    const { challengeToken } = (await (
      await post(h, '/v1/auth/login', { email: staff.email, password: staff.password }, {}, '192.0.2.55')
    ).json()) as { challengeToken: string };
    for (let i = 0; i < 5; i++)
      expect(
        (await post(h, '/v1/auth/mfa/verify', { challengeToken, code: '000000' }, {}, '192.0.2.55')).status,
      ).toBe(401);
    const good = await post(
      h,
      '/v1/auth/mfa/verify',
      { challengeToken, code: await totpCode(staff.secret, h.clock.now().getTime()) },
      {},
      '192.0.2.55',
    );
    expect(good.status).toBe(401);
  });
});

describe('authorisation', () => {
  const routes: { method: string; path: string; permission: string; body?: unknown }[] = [
    { method: 'GET', path: '/v1/staff', permission: 'staff:admin' },
    { method: 'GET', path: '/v1/keys', permission: 'keys:admin' },
    { method: 'GET', path: '/v1/sources', permission: 'sources:admin' },
    { method: 'GET', path: '/v1/audit', permission: 'audit:read' },
    { method: 'GET', path: '/v1/audit/verify', permission: 'audit:read' },
    { method: 'GET', path: '/v1/security/alerts', permission: 'security:read' },
  ];

  it('BFLA: each role reaches exactly the routes its permissions allow', async () => {
    for (const role of STAFF_ROLES) {
      const s = await signIn(h, await createStaff(h, role));
      for (const r of routes) {
        const res2 =
          r.method === 'GET' ? await get(r.path, as(s, false)) : await send(r.method, r.path, r.body, as(s));
        const allowed = (ROLE_PERMISSIONS[role] as readonly string[]).includes(r.permission);
        expect({ role, path: r.path, status: res2.status }).toEqual({
          role,
          path: r.path,
          status: allowed ? 200 : 403,
        });
      }
    }
  });

  it('unauthenticated callers get 401 on every staff route', async () => {
    for (const r of routes) expect((await get(r.path)).status).toBe(401);
  });

  it('mass assignment: unknown fields such as id or role are refused', async () => {
    const withId = await send(
      'POST',
      '/v1/staff',
      { email: 'x1@shop.test', role: 'analyst', password: 'a fine long passphrase', id: 'stf_mine' },
      as(ownerSession),
    );
    expect(withId.status).toBe(400);
    const staff = await createStaff(h, 'marketer');
    const s = await signIn(h, staff);
    // A marketer cannot change their own role: not through /v1/auth/email, not through /v1/staff.
    const selfRole = await send(
      'POST',
      '/v1/auth/email',
      { currentPassword: staff.password, email: 'new@shop.test', role: 'owner' },
      as(s),
    );
    expect(selfRole.status).toBe(400);
    expect((await send('PATCH', `/v1/staff/${staff.id}`, { role: 'owner' }, as(s))).status).toBe(403);
    const idChange = await send(
      'PATCH',
      `/v1/staff/${staff.id}`,
      { id: 'stf_other', role: 'analyst' },
      as(ownerSession),
    );
    expect(idChange.status).toBe(400);
    const me = (await (await get('/v1/auth/me', as(s, false))).json()) as { staff: { role: string } };
    expect(me.staff.role).toBe('marketer');
  });

  it('an admin cannot make an owner; role changes are audited', async () => {
    const admin = await createStaff(h, 'admin');
    const a = await signIn(h, admin);
    const target = await createStaff(h, 'analyst');
    expect((await send('PATCH', `/v1/staff/${target.id}`, { role: 'owner' }, as(a))).status).toBe(403);
    expect((await send('PATCH', `/v1/staff/${target.id}`, { role: 'marketer' }, as(a))).status).toBe(200);
    const changes = await h.audit.service.list({ action: 'staff.role_change' });
    expect(
      changes.some(
        (e) => e.target === `staff:${target.id}` && e.outcome === 'success' && e.details?.to === 'marketer',
      ),
    ).toBe(true);
    expect(changes.some((e) => e.target === `staff:${target.id}` && e.outcome === 'denied')).toBe(true);
  });

  it('responses carry only allow-listed fields (no hashes, keys or secrets)', async () => {
    const res = await get('/v1/staff', as(ownerSession, false));
    const body = (await res.json()) as { staff: Record<string, unknown>[] };
    for (const s of body.staff)
      expect(Object.keys(s).sort()).toEqual(['createdAt', 'disabled', 'email', 'id', 'mfaEnabled', 'role']);
  });

  it('server keys act only within their scopes and never administer staff', async () => {
    const created = await send(
      'POST',
      '/v1/keys',
      { name: 'reporting', scopes: ['audit:read'] },
      as(ownerSession),
    );
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    expect(key).toMatch(/^sk_/);
    expect((await get('/v1/audit', { authorization: `Bearer ${key}` })).status).toBe(200);
    expect((await get('/v1/security/alerts', { authorization: `Bearer ${key}` })).status).toBe(403);
    expect(
      (await send('POST', '/v1/keys', { name: 'escalate', scopes: ['staff:admin'] }, as(ownerSession)))
        .status,
    ).toBe(400);
    const list = await (await get('/v1/keys', as(ownerSession, false))).text();
    expect(list).not.toContain(key);
    expect((await h.audit.service.list({ action: 'key.create' })).length).toBeGreaterThan(0);
  });
});

describe('tokens and keys', () => {
  it('shopper tokens: valid passes the guard; tampered, expired, wrong-secret and alg=none are refused', async () => {
    const { token } = await shopperTokenCommand(
      h.config,
      { user: 'cust-1', ttl: '15m' },
      h.clock.now().getTime(),
    );
    const ok = await get('/v1/me/consent', { authorization: `Bearer ${token}` });
    expect(ok.status).not.toBe(401);
    const [hd, pl, sig] = token.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(pl!, 'base64url').toString()), sub: 'cust-2' }),
    ).toString('base64url');
    const bad = [
      `${hd}.${forgedPayload}.${sig}`,
      `${hd}.${pl}.${sig!.slice(0, -2)}AA`,
      `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${pl}.`,
      await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('cust-1')
        .setIssuer('candor-shop')
        .setAudience('candor-shopper')
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(Buffer.alloc(32, 1)),
    ];
    for (const t of bad)
      expect((await get('/v1/me/consent', { authorization: `Bearer ${t}` })).status).toBe(401);
    h.clock.advance(16 * 60_000);
    expect((await get('/v1/me/consent', { authorization: `Bearer ${token}` })).status).toBe(401);
  });

  it('write keys are shown once, stored hashed, rotatable with a grace period', async () => {
    const { sourceId, writeKey } = await sourceCreateCommand(h.auth, { name: 'web shop' });
    expect(await h.auth.authenticateWriteKey(writeKey)).toEqual({ sourceId });
    expect(await h.auth.authenticateWriteKey(`${writeKey.slice(0, -1)}x`)).toBeNull();
    const listed = await (await get('/v1/sources', as(ownerSession, false))).text();
    expect(listed).not.toContain(writeKey);
    const rotated = await send(
      'POST',
      `/v1/sources/${sourceId}/rotate-key`,
      { graceSeconds: 60 },
      as(ownerSession),
    );
    expect(rotated.status).toBe(200);
    const { writeKey: next } = (await rotated.json()) as { writeKey: string };
    expect(await h.auth.authenticateWriteKey(writeKey)).toEqual({ sourceId });
    expect(await h.auth.authenticateWriteKey(next)).toEqual({ sourceId });
    h.clock.advance(61_000);
    expect(await h.auth.authenticateWriteKey(writeKey)).toBeNull();
    expect(await h.auth.authenticateWriteKey(next)).toEqual({ sourceId });
  });
});

describe('hostile input', () => {
  const payloads = [
    "' OR '1'='1",
    "'; DROP TABLE staff; --",
    '" OR 1=1 --',
    '\u0000',
    '${7*7}',
    '../../etc/passwd',
    '<script>alert(1)</script>',
  ];

  it('SQL injection payloads in every field of sign-in fail safely', async () => {
    for (const p of payloads) {
      const r1 = await post(h, '/v1/auth/login', { email: p, password: p }, {}, '192.0.2.201');
      expect([400, 401, 429]).toContain(r1.status);
      const r2 = await post(
        h,
        '/v1/auth/mfa/verify',
        { challengeToken: `${p}`.padEnd(24, 'x'), code: p.slice(0, 6) },
        {},
        '192.0.2.202',
      );
      expect([400, 401, 429]).toContain(r2.status);
    }
    expect((await get('/v1/staff', as(ownerSession, false))).status).toBe(200);
  });

  it('injection payloads in path and query parameters fail safely', async () => {
    for (const p of payloads) {
      const enc = encodeURIComponent(p);
      expect([400, 404]).toContain((await get(`/v1/staff/${enc}`, as(ownerSession, false))).status);
      expect((await get(`/v1/audit?action=${enc}`, as(ownerSession, false))).status).toBe(200);
      expect([200, 400]).toContain((await get(`/v1/audit?after=${enc}`, as(ownerSession, false))).status);
    }
  });

  it('prototype-pollution payloads are refused and pollute nothing', async () => {
    const raw = '{"email":"a@b.test","password":"x","__proto__":{"role":"owner","isAdmin":true}}';
    const res = await h.candor.app.request(
      '/v1/auth/login',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw },
      fromIp('192.0.2.203'),
    );
    expect([400, 401]).toContain(res.status);
    const res2 = await h.candor.app.request(
      '/v1/staff',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...as(ownerSession) },
        body: '{"email":"p@shop.test","role":"analyst","password":"a fine long passphrase","constructor":{"prototype":{"role":"owner"}}}',
      },
      fromIp('192.0.2.10'),
    );
    expect(res2.status).toBe(400);
    expect(({} as Record<string, unknown>).role).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('oversized inputs get a 4xx, never a crash', async () => {
    const longPw = await post(
      h,
      '/v1/auth/login',
      { email: owner.email, password: 'x'.repeat(10_000) },
      {},
      '192.0.2.204',
    );
    expect(longPw.status).toBe(400);
    const huge = await post(
      h,
      '/v1/auth/login',
      { email: 'a@b.test', password: 'y'.repeat(2 * 1024 * 1024) },
      {},
      '192.0.2.205',
    );
    expect(huge.status).toBe(413);
    const longName = await send('POST', '/v1/sources', { name: 'n'.repeat(5000) }, as(ownerSession));
    expect(longName.status).toBe(400);
  });
});

describe('storage and logs', () => {
  it('passwords are argon2id with m=19456 KiB, t=2, p=1; emails are not stored in clear', async () => {
    const rows = await h.candor.stores.state.db.selectFrom('staff').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      expect(Buffer.from(r.email_enc).toString('latin1')).not.toContain('@shop.test');
      expect(r.email_hash).not.toContain('@');
    }
    const sessions = await h.candor.stores.state.db
      .selectFrom('staff_sessions')
      .select('token_hash')
      .execute();
    expect(sessions.map((s: { token_hash: string }) => s.token_hash)).not.toContain(ownerSession.token);
  });

  it('the audit chain of this whole run verifies', async () => {
    const res = await get('/v1/audit/verify', as(ownerSession, false));
    expect(await res.json()).toMatchObject({ ok: true, firstBroken: null });
  });

  it('no password, token, key, TOTP secret or staff email appears in the logs', async () => {
    expect(h.logs.length).toBeGreaterThan(10);
    const all = h.logs.join('\n');
    for (const secret of [
      owner.password,
      ownerSession.token,
      ownerSession.csrf,
      owner.secret,
      owner.email,
      '@shop.test',
      'correct horse',
      h.config.secrets.sessionSecret!,
    ]) {
      expect(all).not.toContain(secret);
    }
  });
});
