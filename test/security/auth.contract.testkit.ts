/**
 * Staff authentication every state store must carry, written once: SQLite in auth.contract.test.ts (one
 * process serves both sides), PostgreSQL in auth.server.test.ts (two Candor instances on one schema, as two
 * API processes behind a load balancer). Accounts, the password → TOTP → session flow, sessions, server
 * keys, password reset and lockout live in the state store, so what one process does, the other must honour
 * on the very next request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/kernel/clock.ts';
import { generateSecrets, testConfig } from '../../src/kernel/config.ts';
import { createLogger } from '../../src/kernel/logger.ts';
import type { AuditModule } from '../../src/modules/audit/index.ts';
import type { AuthModule } from '../../src/modules/auth/index.ts';
import { totpCode } from '../../src/modules/auth/totp.ts';
import { createCandor } from '../../src/server/index.ts';
import { makeTempDir } from '../../src/storage/testing.ts';
import { as, createStaff, fromIp, post, signIn, type Harness } from './harness.ts';

export type AuthPair = {
  /** The process a request goes to first. */
  a: Harness;
  /** The process the next request lands on (the same one when the store belongs to one process). */
  b: Harness;
  close(): Promise<void>;
};

/**
 * One Candor process for the pair. Both share the secrets (as processes of one installation do) and the
 * clock (so TOTP steps and session ages agree); `pg` puts both stores in that PostgreSQL schema.
 */
export async function openAuthProcess(options: {
  clock: ReturnType<typeof fixedClock>;
  secrets: Record<string, string>;
  pg?: { url: string; schema: string };
}): Promise<Harness> {
  const dir = makeTempDir('candor-auth');
  const config = testConfig(dir.path, {
    secrets: options.secrets,
    ...(options.pg ? { stateUrl: options.pg.url, eventsUrl: options.pg.url } : {}),
  });
  const logs: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => void logs.push(s) } });
  const candor = await createCandor(config, {
    clock: options.clock,
    logger,
    jobs: false,
    ...(options.pg ? { storeOptions: { pgSchema: options.pg.schema } } : {}),
  });
  return {
    candor,
    config,
    clock: options.clock,
    auth: candor.modules.find((m) => m.name === 'auth') as AuthModule,
    audit: candor.modules.find((m) => m.name === 'audit') as AuditModule,
    logs,
    dir,
    async close() {
      await candor.close();
      dir.cleanup();
    },
  };
}

export const sharedClock = () => fixedClock('2025-05-01T12:00:00Z');
export const sharedSecrets = () => generateSecrets() as Record<string, string>;

const get = (h: Harness, path: string, headers: Record<string, string>) =>
  h.candor.app.request(path, { headers }, fromIp('192.0.2.10'));

export function authContract(name: string, open: () => Promise<AuthPair>): void {
  describe(`staff authentication (${name})`, () => {
    let p: AuthPair;
    beforeAll(async () => {
      p = await open();
    });
    afterAll(async () => p?.close());

    it('a session from one process works on the other, and a logout there ends it everywhere', async () => {
      const s = await createStaff(p.a, 'analyst');
      const session = await signIn(p.a, s);
      const me = await get(p.b, '/v1/auth/me', as(session, false));
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ staff: { email: s.email, role: 'analyst' } });
      const out = await post(p.b, '/v1/auth/logout', {}, as(session));
      expect(out.status).toBeLessThan(300);
      expect((await get(p.a, '/v1/auth/me', as(session, false))).status).toBe(401);
    });

    it('MFA: a wrong code is refused, a code is usable once, whichever process checks it', async () => {
      const s = await createStaff(p.a, 'support');
      const challenge = async (h: Harness) =>
        (
          (await (await post(h, '/v1/auth/login', { email: s.email, password: s.password })).json()) as {
            challengeToken: string;
          }
        ).challengeToken;
      const first = await challenge(p.a);
      expect((await post(p.b, '/v1/auth/mfa/verify', { challengeToken: first, code: '000000' })).status).toBe(
        401,
      );
      const code = await totpCode(s.secret, p.a.clock.now().getTime());
      const ok = await post(p.b, '/v1/auth/mfa/verify', { challengeToken: first, code });
      expect(ok.status).toBe(200);
      // The same code, on the other process, for a new challenge: already spent.
      const second = await challenge(p.b);
      expect((await post(p.a, '/v1/auth/mfa/verify', { challengeToken: second, code })).status).toBe(401);
      p.a.clock.advance(30_000);
    });

    it('a server key created on one process is accepted by the other, and refused there once revoked', async () => {
      const owner = await createStaff(p.a, 'owner');
      const session = await signIn(p.a, owner);
      const created = await post(p.a, '/v1/keys', { name: 'mailer', scopes: ['mail:send'] }, as(session));
      expect(created.status).toBe(201);
      const { key, serverKey } = (await created.json()) as { key: string; serverKey: { id: string } };
      const claim = (h: Harness) =>
        h.candor.app.request(
          '/v1/auth/outbox/claim',
          { method: 'POST', headers: { authorization: `Bearer ${key}` } },
          fromIp('192.0.2.90'),
        );
      expect((await claim(p.b)).status).toBe(200);
      const revoked = await p.b.candor.app.request(
        `/v1/keys/${serverKey.id}`,
        { method: 'DELETE', headers: as(session) },
        fromIp('192.0.2.10'),
      );
      expect(revoked.status).toBe(204);
      expect((await claim(p.a)).status).toBe(401);
    });

    it('a password reset requested on one process and confirmed on the other ends every session', async () => {
      const mailer = await p.a.auth.keys.createServerKey({ name: 'mail', scopes: ['mail:send'] }, 'system');
      const s = await createStaff(p.a, 'marketer');
      const sessionA = await signIn(p.a, s);
      const sessionB = await signIn(p.b, s);
      expect((await post(p.b, '/v1/auth/password-reset', { email: s.email })).status).toBe(202);
      const claimed = await p.a.candor.app.request(
        '/v1/auth/outbox/claim',
        { method: 'POST', headers: { authorization: `Bearer ${mailer.key}` } },
        fromIp('192.0.2.90'),
      );
      const { messages } = (await claimed.json()) as { messages: { to: string; token: string }[] };
      const token = messages.find((m) => m.to === s.email)!.token;
      const newPassword = 'a new and rather long passphrase';
      const confirm = await post(p.a, '/v1/auth/password-reset/confirm', {
        token,
        newPassword,
        code: await totpCode(s.secret, p.a.clock.now().getTime()),
      });
      expect(confirm.status).toBe(200);
      expect((await get(p.a, '/v1/auth/me', as(sessionA, false))).status).toBe(401);
      expect((await get(p.b, '/v1/auth/me', as(sessionB, false))).status).toBe(401);
      expect((await post(p.b, '/v1/auth/login', { email: s.email, password: s.password })).status).toBe(401);
      p.a.clock.advance(30_000);
      await signIn(p.b, { ...s, password: newPassword });
    });

    it('failures on either process count toward one lockout, recorded in the audit log', async () => {
      const s = await createStaff(p.a, 'analyst');
      for (let i = 0; i < 10; i++) {
        await post(
          i % 2 === 0 ? p.a : p.b,
          '/v1/auth/login',
          { email: s.email, password: `wrong guess ${i}` },
          {},
          `198.51.100.${i + 1}`,
        );
      }
      const right = await post(
        p.b,
        '/v1/auth/login',
        { email: s.email, password: s.password },
        {},
        '198.51.100.99',
      );
      expect(right.status).toBe(429);
      const lockouts = await p.a.audit.service.list({ action: 'auth.lockout' });
      expect(lockouts.some((e) => e.target === `staff:${s.id}`)).toBe(true);
    });
  });
}
