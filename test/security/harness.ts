/**
 * A running Candor (real SQLite/DuckDB in a temp dir, fixed clock, every log line captured) and helpers
 * that sign staff in the way a browser does: password, then TOTP code, then the session cookie.
 */
import { fixedClock } from '../../src/kernel/clock.ts';
import { testConfig, type RuntimeConfig } from '../../src/kernel/config.ts';
import { createLogger } from '../../src/kernel/logger.ts';
import type { AuditModule } from '../../src/modules/audit/index.ts';
import { staffCreateCommand, type AuthModule } from '../../src/modules/auth/index.ts';
import { totpCode } from '../../src/modules/auth/totp.ts';
import { createCandor, type Candor } from '../../src/server/index.ts';
import { makeTempDir, type TempDir } from '../../src/storage/testing.ts';

export type Harness = {
  candor: Candor;
  config: RuntimeConfig;
  clock: ReturnType<typeof fixedClock>;
  auth: AuthModule;
  audit: AuditModule;
  logs: string[];
  dir: TempDir;
  close(): Promise<void>;
};

export async function startHarness(overrides: Record<string, unknown> = {}): Promise<Harness> {
  const dir = makeTempDir('candor-security');
  const config = testConfig(dir.path, { logLevel: 'trace', ...overrides });
  const clock = fixedClock('2025-05-01T12:00:00Z');
  const logs: string[] = [];
  const logger = createLogger({ level: 'trace', destination: { write: (s: string) => void logs.push(s) } });
  const candor = await createCandor(config, { clock, logger, jobs: false });
  const auth = candor.modules.find((m) => m.name === 'auth') as AuthModule;
  const audit = candor.modules.find((m) => m.name === 'audit') as AuditModule;
  return {
    candor,
    config,
    clock,
    auth,
    audit,
    logs,
    dir,
    async close() {
      await candor.close();
      dir.cleanup();
    },
  };
}

export type Staff = { id: string; email: string; password: string; secret: string };

let counter = 0;
export async function createStaff(
  h: Harness,
  role: string,
  password = 'correct horse battery staple',
): Promise<Staff> {
  const email = `staff${++counter}.${role}@shop.test`;
  const { id, totpUri } = await staffCreateCommand(h.auth, { email, role, password });
  const secret = new URL(totpUri).searchParams.get('secret')!;
  return { id, email, password, secret };
}

export type Session = { cookie: string; csrf: string; token: string; setCookie: string };

/** Connection info as @hono/node-server would give it, so per-IP limits can be exercised. */
export const fromIp = (ip: string) => ({
  incoming: { socket: { remoteAddress: ip, remotePort: 40000, remoteFamily: 'IPv4' } },
});

export async function post(
  h: Harness,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
  ip = '192.0.2.10',
) {
  return h.candor.app.request(
    path,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    },
    fromIp(ip),
  );
}

export async function signIn(h: Harness, s: Staff, ip = '192.0.2.10'): Promise<Session> {
  const login = await post(h, '/v1/auth/login', { email: s.email, password: s.password }, {}, ip);
  if (login.status !== 200) throw new Error(`login ${login.status}: ${await login.text()}`);
  const { challengeToken } = (await login.json()) as { challengeToken: string };
  const code = await totpCode(s.secret, h.clock.now().getTime());
  const verify = await post(h, '/v1/auth/mfa/verify', { challengeToken, code }, {}, ip);
  if (verify.status !== 200) throw new Error(`mfa ${verify.status}: ${await verify.text()}`);
  const setCookie = verify.headers.get('set-cookie')!;
  const token = /__Host-candor_session=([^;]+)/.exec(setCookie)![1]!;
  const { csrfToken } = (await verify.json()) as { csrfToken: string };
  // The next code must come from a later time step (a code is usable once).
  h.clock.advance(30_000);
  return { cookie: `__Host-candor_session=${token}`, csrf: csrfToken, token, setCookie };
}

export function as(session: Session, write = true): Record<string, string> {
  return write ? { cookie: session.cookie, 'x-csrf-token': session.csrf } : { cookie: session.cookie };
}
