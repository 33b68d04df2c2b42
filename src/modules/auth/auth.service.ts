/**
 * Staff accounts, the sign-in flow (password → TOTP → session), sessions and re-authentication.
 * Every sign-in success or failure, role change and account change is written to the audit log; failures
 * feed the abuse detector and the lockout counter.
 */
import type { Clock } from '../../kernel/clock.ts';
import {
  constantTimeEqual,
  hmacSha256,
  newDataKey,
  open,
  randomToken,
  seal,
  sha256Hex,
  type KeyRing,
  type Pseudonymizer,
} from '../../kernel/crypto.ts';
import { AppError } from '../../kernel/errors.ts';
import type { StaffRole } from '../../kernel/http.ts';
import { newId } from '../../kernel/ids.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { StateStore } from '../../storage/ports.ts';
import type { AbuseDetector } from './abuse.service.ts';
import type { AuditWriter } from './deps.ts';
import {
  ARGON2_PARAMS,
  hashPassword,
  needsRehash,
  passwordProblem,
  PASSWORD_PROBLEM_MESSAGES,
  verifyPassword,
  type PasswordParams,
} from './password.ts';
import { canAssignRole, isStaffRole } from './permissions.ts';
import type { RateLimiter } from './rate-limit.ts';
import { authDb, type SessionRow, type StaffRow } from './store.ts';
import { newTotpSecret, totpUri, verifyTotp } from './totp.ts';

export type AuthServiceDeps = {
  state: StateStore;
  clock: Clock;
  logger: Logger;
  keyRing: KeyRing;
  pseudonymize: Pseudonymizer;
  audit: AuditWriter;
  abuse: AbuseDetector;
  limiter: RateLimiter;
};

export type AuthServiceConfig = {
  sessionSecret: string;
  /** A session unused this long ends. */
  idleTimeoutMs?: number;
  /** A session ends this long after sign-in, used or not. */
  absoluteTimeoutMs?: number;
  /** Time to enter the TOTP code after the password was accepted. */
  mfaChallengeTtlMs?: number;
  /** Consecutive failed sign-ins (password or code) before the account locks. */
  lockoutThreshold?: number;
  lockoutMs?: number;
  /** Re-entering the password within this window satisfies re-authentication. */
  reauthWindowMs?: number;
  /** How long a password-reset token stays valid. */
  passwordResetTtlMs?: number;
  argon2?: PasswordParams;
};

export type StaffView = {
  id: string;
  email: string;
  role: StaffRole;
  mfaEnabled: boolean;
  disabled: boolean;
  createdAt: number;
};

export type SessionInfo = {
  sessionId: string;
  staffId: string;
  role: StaffRole;
  expiresAt: number;
};

export type NewSession = {
  token: string;
  csrfToken: string;
  sessionId: string;
  expiresAt: number;
  staff: StaffView;
};

export type RequestMeta = { ipKey: string };

const MAX_OTP_FAILURES_PER_CHALLENGE = 5;

/** Same work for unknown accounts as for known ones, so response time does not reveal who has an account. */
let dummyHash: Promise<string> | undefined;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{1,63}$/;

export function createAuthService(deps: AuthServiceDeps, config: AuthServiceConfig) {
  const db = authDb(deps.state);
  const idleMs = config.idleTimeoutMs ?? 30 * 60_000;
  const absoluteMs = config.absoluteTimeoutMs ?? 12 * 3600_000;
  const challengeMs = config.mfaChallengeTtlMs ?? 5 * 60_000;
  const lockThreshold = config.lockoutThreshold ?? 10;
  const lockMs = config.lockoutMs ?? 15 * 60_000;
  const reauthMs = config.reauthWindowMs ?? 5 * 60_000;
  const resetTtlMs = config.passwordResetTtlMs ?? 15 * 60_000;
  const params = config.argon2 ?? ARGON2_PARAMS;
  const now = () => deps.clock.now().getTime();

  const emailHash = (email: string) => deps.pseudonymize('staff-email', normalizeEmail(email));
  const dataKeyOf = (row: Pick<StaffRow, 'data_key'>) => deps.keyRing.unwrap(row.data_key);
  const sealFor = (key: Buffer, staffId: string, field: string, value: string) =>
    seal(key, value, `staff:${staffId}:${field}`);
  const openFor = (key: Buffer, staffId: string, field: string, value: Uint8Array) =>
    open(key, Buffer.from(value), `staff:${staffId}:${field}`).toString('utf8');

  const csrfTokenFor = (sessionId: string) =>
    hmacSha256(Buffer.from(config.sessionSecret, 'base64'), `csrf:${sessionId}`).toString('base64url');

  const view = (row: StaffRow): StaffView => ({
    id: row.id,
    email: openFor(dataKeyOf(row), row.id, 'email', row.email_enc),
    role: row.role as StaffRole,
    mfaEnabled: Number(row.totp_confirmed) === 1,
    disabled: Number(row.disabled) === 1,
    createdAt: Number(row.created_at),
  });

  const getRow = (id: string) => db.selectFrom('staff').selectAll().where('id', '=', id).executeTakeFirst();

  const requireRow = async (id: string): Promise<StaffRow> => {
    const row = await getRow(id);
    if (!row)
      throw new AppError('not_found', 'No staff account has this id. List accounts with GET /v1/staff.');
    return row;
  };

  const checkNewPassword = (password: string, email?: string) => {
    const problem = passwordProblem(password, email === undefined ? {} : { email });
    if (problem)
      throw new AppError('invalid_request', PASSWORD_PROBLEM_MESSAGES[problem], {
        details: { reason: problem },
      });
  };

  const ownerCount = async () =>
    Number(
      (
        await db
          .selectFrom('staff')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('role', '=', 'owner')
          .where('disabled', '=', 0)
          .executeTakeFirstOrThrow()
      ).n,
    );

  async function createStaff(
    input: { email: string; role: string; password: string },
    actor: { id: string; role: StaffRole } | 'cli',
  ): Promise<{ id: string; totpUri: string; staff: StaffView }> {
    const email = normalizeEmail(input.email);
    if (!EMAIL.test(email))
      throw new AppError('invalid_request', 'Give a valid email address, e.g. name@shop.example.');
    if (!isStaffRole(input.role)) {
      throw new AppError(
        'invalid_request',
        `Unknown role ${JSON.stringify(input.role).slice(0, 40)}; use owner, admin, analyst, marketer, support, privacy_officer or security_officer.`,
      );
    }
    const role = input.role;
    if (actor !== 'cli' && !canAssignRole(actor.role, role)) {
      await deps.audit.record({
        actor: `staff:${actor.id}`,
        action: 'staff.create',
        outcome: 'denied',
        details: { role },
      });
      throw new AppError('forbidden', `Your role cannot create ${role} accounts.`);
    }
    checkNewPassword(input.password, email);
    const hash = emailHash(email);
    if (await db.selectFrom('staff').select('id').where('email_hash', '=', hash).executeTakeFirst()) {
      throw new AppError('conflict', 'A staff account with this email already exists.');
    }
    const id = newId('stf');
    const key = newDataKey();
    const secret = newTotpSecret();
    const t = now();
    await db
      .insertInto('staff')
      .values({
        id,
        email_hash: hash,
        email_enc: sealFor(key, id, 'email', email),
        data_key: deps.keyRing.wrap(key),
        role,
        password_hash: await hashPassword(input.password, params),
        totp_secret_enc: sealFor(key, id, 'totp', secret),
        totp_confirmed: 0,
        totp_pending_enc: null,
        totp_last_step: null,
        disabled: 0,
        failed_logins: 0,
        locked_until: null,
        created_at: t,
        updated_at: t,
      })
      .execute();
    await deps.audit.record({
      actor: actor === 'cli' ? 'system:cli' : `staff:${actor.id}`,
      action: 'staff.create',
      target: `staff:${id}`,
      outcome: 'success',
      details: { role },
    });
    return { id, totpUri: totpUri(secret, `${email}`), staff: view((await getRow(id))!) };
  }

  async function recordFailure(
    row: StaffRow | undefined,
    meta: RequestMeta,
    reason: string,
    action = 'auth.login',
  ): Promise<void> {
    const t = now();
    if (row) {
      const failures = Number(row.failed_logins) + 1;
      const lock = failures >= lockThreshold;
      await db
        .updateTable('staff')
        .set({
          failed_logins: lock ? 0 : failures,
          ...(lock ? { locked_until: t + lockMs } : {}),
          updated_at: t,
        })
        .where('id', '=', row.id)
        .execute();
      if (lock) {
        await deps.audit.record({
          actor: `staff:${row.id}`,
          action: 'auth.lockout',
          target: `staff:${row.id}`,
          outcome: 'success',
          details: { minutes: Math.round(lockMs / 60_000) },
        });
      }
    }
    await deps.audit.record({
      actor: row ? `staff:${row.id}` : 'anonymous',
      action,
      target: row ? `staff:${row.id}` : null,
      outcome: 'failure',
      details: { reason, ip: meta.ipKey.slice(0, 16) },
    });
  }

  const lockedFor = (row: StaffRow): number => {
    const until = row.locked_until === null ? 0 : Number(row.locked_until);
    return until > now() ? Math.ceil((until - now()) / 1000) : 0;
  };

  const lockedError = (seconds: number) =>
    new AppError(
      'rate_limited',
      `This account is locked after repeated failed sign-ins. Try again in ${Math.ceil(seconds / 60)} minutes.`,
      {
        retryAfter: seconds,
      },
    );

  /** Step 1: the password. Answers with an MFA challenge; never with a session. */
  async function login(
    input: { email: string; password: string },
    meta: RequestMeta,
  ): Promise<{ challengeToken: string; expiresAt: number; enrollment: { totpUri: string } | null }> {
    const hash = emailHash(input.email);
    await deps.limiter.consume('login.ip', meta.ipKey, { capacity: 20, refillPerSec: 20 / 600 });
    await deps.limiter.consume('login.account', hash, { capacity: 10, refillPerSec: 10 / 900 });
    const row = await db.selectFrom('staff').selectAll().where('email_hash', '=', hash).executeTakeFirst();
    const invalid = () =>
      new AppError('invalid_credentials', 'Email or password is wrong. Check both and try again.');
    if (!row) {
      dummyHash ??= hashPassword('candor-timing-equaliser', params);
      await verifyPassword(await dummyHash, input.password);
      deps.abuse.noteLoginFailure(meta.ipKey, hash);
      await recordFailure(undefined, meta, 'unknown_account');
      throw invalid();
    }
    const locked = lockedFor(row);
    if (locked > 0) {
      await deps.audit.record({
        actor: `staff:${row.id}`,
        action: 'auth.login',
        target: `staff:${row.id}`,
        outcome: 'denied',
        details: { reason: 'locked' },
      });
      throw lockedError(locked);
    }
    const ok = await verifyPassword(row.password_hash, input.password);
    if (!ok || Number(row.disabled) === 1) {
      deps.abuse.noteLoginFailure(meta.ipKey, hash);
      await recordFailure(row, meta, ok ? 'disabled' : 'bad_password');
      throw invalid();
    }
    const t = now();
    if (needsRehash(row.password_hash, params)) {
      await db
        .updateTable('staff')
        .set({ password_hash: await hashPassword(input.password, params), updated_at: t })
        .where('id', '=', row.id)
        .execute();
      deps.logger.info({ staffId: row.id }, 'password rehashed with current parameters');
    }
    const challengeToken = randomToken(32);
    await db
      .insertInto('staff_sessions')
      .values({
        id: newId('mfa'),
        token_hash: sha256Hex(challengeToken),
        staff_id: row.id,
        stage: 'mfa',
        created_at: t,
        last_seen_at: t,
        expires_at: t + challengeMs,
        auth_at: t,
        otp_failures: 0,
        revoked_at: null,
      })
      .execute();
    const enrolling = Number(row.totp_confirmed) === 0;
    const enrollment = enrolling
      ? {
          totpUri: totpUri(
            openFor(dataKeyOf(row), row.id, 'totp', row.totp_secret_enc),
            openFor(dataKeyOf(row), row.id, 'email', row.email_enc),
          ),
        }
      : null;
    return { challengeToken, expiresAt: t + challengeMs, enrollment };
  }

  async function newSession(staff: StaffRow): Promise<NewSession> {
    const t = now();
    const token = randomToken(32);
    const sessionId = newId('ses');
    const expiresAt = t + absoluteMs;
    await db
      .insertInto('staff_sessions')
      .values({
        id: sessionId,
        token_hash: sha256Hex(token),
        staff_id: staff.id,
        stage: 'active',
        created_at: t,
        last_seen_at: t,
        expires_at: expiresAt,
        auth_at: t,
        otp_failures: 0,
        revoked_at: null,
      })
      .execute();
    return { token, csrfToken: csrfTokenFor(sessionId), sessionId, expiresAt, staff: view(staff) };
  }

  const RECOVERY_CODES = 10;
  const recoveryHash = (code: string) => sha256Hex(`recovery:${code.replace(/[\s-]/g, '').toLowerCase()}`);
  async function issueRecoveryCodes(staffId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODES }, () => {
      const raw = randomToken(10)
        .replace(/[^A-Za-z0-9]/g, 'x')
        .slice(0, 12)
        .toLowerCase();
      return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8, 12)}`;
    });
    await db.deleteFrom('staff_recovery_codes').where('staff_id', '=', staffId).execute();
    await db
      .insertInto('staff_recovery_codes')
      .values(codes.map((c) => ({ staff_id: staffId, code_hash: recoveryHash(c), used_at: null })))
      .execute();
    return codes;
  }

  /** Step 2: the TOTP code (or a recovery code). A fresh session token is issued (no fixation). */
  /**
   * Checks a TOTP code (each time step usable once, also across concurrent requests) or a single-use
   * recovery code, and consumes it when it is right.
   */
  async function acceptSecondFactor(
    row: StaffRow,
    input: { code?: string | undefined; recoveryCode?: string | undefined },
    t: number,
  ): Promise<{ accepted: boolean; recoveryUsed: boolean }> {
    const key = dataKeyOf(row);
    let accepted = false;
    let recoveryUsed = false;
    if (input.code !== undefined) {
      const secret = openFor(key, row.id, 'totp', row.totp_secret_enc);
      const step = await verifyTotp(
        secret,
        input.code,
        t,
        row.totp_last_step === null ? null : Number(row.totp_last_step),
      );
      if (step !== null) {
        // The step is stored only if it moves forward: a concurrent replay of the same code loses here.
        const res = await db
          .updateTable('staff')
          .set({ totp_last_step: step, updated_at: t })
          .where('id', '=', row.id)
          .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
          .executeTakeFirst();
        accepted = Number(res.numUpdatedRows) === 1;
      }
    } else if (input.recoveryCode !== undefined && Number(row.totp_confirmed) === 1) {
      const res = await db
        .updateTable('staff_recovery_codes')
        .set({ used_at: t })
        .where('staff_id', '=', row.id)
        .where('code_hash', '=', recoveryHash(input.recoveryCode))
        .where('used_at', 'is', null)
        .executeTakeFirst();
      accepted = Number(res.numUpdatedRows) === 1;
      recoveryUsed = accepted;
    }
    return { accepted, recoveryUsed };
  }

  async function verifyMfa(
    input: { challengeToken: string; code?: string | undefined; recoveryCode?: string | undefined },
    meta: RequestMeta,
  ): Promise<NewSession & { recoveryCodes: string[] | null }> {
    await deps.limiter.consume('otp.ip', meta.ipKey, { capacity: 20, refillPerSec: 20 / 600 });
    const t = now();
    const challenge = await db
      .selectFrom('staff_sessions')
      .selectAll()
      .where('token_hash', '=', sha256Hex(input.challengeToken))
      .where('stage', '=', 'mfa')
      .executeTakeFirst();
    const expired = () =>
      new AppError(
        'unauthorized',
        'This sign-in attempt has expired or is unknown. Sign in with your password again.',
      );
    if (!challenge || challenge.revoked_at !== null || Number(challenge.expires_at) <= t) throw expired();
    await deps.limiter.consume('otp.account', challenge.staff_id, { capacity: 10, refillPerSec: 10 / 900 });
    const row = await getRow(challenge.staff_id);
    if (!row || Number(row.disabled) === 1) throw expired();
    const locked = lockedFor(row);
    if (locked > 0) throw lockedError(locked);
    const { accepted, recoveryUsed } = await acceptSecondFactor(row, input, t);
    if (!accepted) {
      const failures = Number(challenge.otp_failures) + 1;
      await db
        .updateTable('staff_sessions')
        .set({
          otp_failures: failures,
          ...(failures >= MAX_OTP_FAILURES_PER_CHALLENGE ? { revoked_at: t } : {}),
        })
        .where('id', '=', challenge.id)
        .execute();
      deps.abuse.noteOtpFailure(row.id);
      await recordFailure(row, meta, 'bad_code', 'auth.mfa');
      throw new AppError(
        'invalid_credentials',
        failures >= MAX_OTP_FAILURES_PER_CHALLENGE
          ? 'Too many wrong codes. Sign in with your password again.'
          : 'The code is wrong or was already used. Enter the current code from your authenticator app.',
      );
    }
    // The challenge is spent; the session gets a token that never existed before this moment.
    await db.deleteFrom('staff_sessions').where('id', '=', challenge.id).execute();
    const firstEnrolment = Number(row.totp_confirmed) === 0;
    await db
      .updateTable('staff')
      .set({ failed_logins: 0, locked_until: null, totp_confirmed: 1, updated_at: t })
      .where('id', '=', row.id)
      .execute();
    const recoveryCodes = firstEnrolment ? await issueRecoveryCodes(row.id) : null;
    const session = await newSession((await getRow(row.id))!);
    await deps.audit.record({
      actor: `staff:${row.id}`,
      action: 'auth.login',
      target: `staff:${row.id}`,
      outcome: 'success',
      details: {
        method: recoveryUsed ? 'recovery_code' : 'totp',
        session: session.sessionId,
        ...(firstEnrolment ? { mfaEnrolled: true } : {}),
      },
    });
    return { ...session, recoveryCodes };
  }

  /** The active session behind a cookie token, or null (unknown, revoked, idle or past its absolute end). */
  async function authenticateSession(token: string): Promise<SessionInfo | null> {
    if (token.length < 20 || token.length > 200) return null;
    const t = now();
    const s: SessionRow | undefined = await db
      .selectFrom('staff_sessions')
      .selectAll()
      .where('token_hash', '=', sha256Hex(token))
      .where('stage', '=', 'active')
      .executeTakeFirst();
    if (!s || s.revoked_at !== null) return null;
    if (Number(s.expires_at) <= t || Number(s.last_seen_at) + idleMs <= t) {
      await db.updateTable('staff_sessions').set({ revoked_at: t }).where('id', '=', s.id).execute();
      return null;
    }
    const row = await db
      .selectFrom('staff')
      .select(['id', 'role', 'disabled'])
      .where('id', '=', s.staff_id)
      .executeTakeFirst();
    if (!row || Number(row.disabled) === 1 || !isStaffRole(row.role)) return null;
    // Touch at most once a minute: the idle timer needs minutes, not a write per request.
    if (t - Number(s.last_seen_at) > 60_000) {
      await db.updateTable('staff_sessions').set({ last_seen_at: t }).where('id', '=', s.id).execute();
    }
    return { sessionId: s.id, staffId: row.id, role: row.role, expiresAt: Number(s.expires_at) };
  }

  function checkCsrf(sessionId: string, presented: string | undefined): boolean {
    return presented !== undefined && constantTimeEqual(presented, csrfTokenFor(sessionId));
  }

  async function logout(sessionId: string, staffId: string): Promise<void> {
    await db
      .updateTable('staff_sessions')
      .set({ revoked_at: now() })
      .where('id', '=', sessionId)
      .where('revoked_at', 'is', null)
      .execute();
    await deps.audit.record({
      actor: `staff:${staffId}`,
      action: 'auth.logout',
      target: `staff:${staffId}`,
      outcome: 'success',
    });
  }

  async function revokeAll(staffId: string): Promise<number> {
    const res = await db
      .updateTable('staff_sessions')
      .set({ revoked_at: now() })
      .where('staff_id', '=', staffId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  async function logoutAll(staffId: string, actor: string): Promise<number> {
    const n = await revokeAll(staffId);
    await deps.audit.record({
      actor,
      action: 'auth.logout_all',
      target: `staff:${staffId}`,
      outcome: 'success',
      details: { sessions: n },
    });
    return n;
  }

  /** Re-authentication: the current password, checked with the same lockout as sign-in. */
  async function reauthenticate(
    staffId: string,
    sessionId: string | null,
    password: string,
    meta: RequestMeta,
  ): Promise<StaffRow> {
    await deps.limiter.consume('reauth.account', staffId, { capacity: 5, refillPerSec: 5 / 900 });
    const row = await requireRow(staffId);
    const locked = lockedFor(row);
    if (locked > 0) throw lockedError(locked);
    if (!(await verifyPassword(row.password_hash, password))) {
      await recordFailure(row, meta, 'bad_password', 'auth.reauth');
      throw new AppError(
        'invalid_credentials',
        'Your current password is wrong. Enter it again to confirm this change.',
      );
    }
    if (sessionId)
      await db.updateTable('staff_sessions').set({ auth_at: now() }).where('id', '=', sessionId).execute();
    return row;
  }

  /** Changing the password ends every session of the account; the caller gets a new one. */
  async function changePassword(
    staffId: string,
    sessionId: string | null,
    input: { currentPassword: string; newPassword: string },
    meta: RequestMeta,
  ): Promise<NewSession> {
    const row = await reauthenticate(staffId, sessionId, input.currentPassword, meta);
    checkNewPassword(input.newPassword, view(row).email);
    await db
      .updateTable('staff')
      .set({ password_hash: await hashPassword(input.newPassword, params), updated_at: now() })
      .where('id', '=', staffId)
      .execute();
    const revoked = await revokeAll(staffId);
    await deps.audit.record({
      actor: `staff:${staffId}`,
      action: 'auth.password_change',
      target: `staff:${staffId}`,
      outcome: 'success',
      details: { sessionsRevoked: revoked },
    });
    return newSession((await getRow(staffId))!);
  }

  async function changeEmail(
    staffId: string,
    sessionId: string | null,
    input: { currentPassword: string; email: string },
    meta: RequestMeta,
  ): Promise<StaffView> {
    const row = await reauthenticate(staffId, sessionId, input.currentPassword, meta);
    const email = normalizeEmail(input.email);
    if (!EMAIL.test(email))
      throw new AppError('invalid_request', 'Give a valid email address, e.g. name@shop.example.');
    const hash = emailHash(email);
    const other = await db.selectFrom('staff').select('id').where('email_hash', '=', hash).executeTakeFirst();
    if (other && other.id !== staffId)
      throw new AppError('conflict', 'Another staff account uses this email.');
    await db
      .updateTable('staff')
      .set({
        email_hash: hash,
        email_enc: sealFor(dataKeyOf(row), staffId, 'email', email),
        updated_at: now(),
      })
      .where('id', '=', staffId)
      .execute();
    await deps.audit.record({
      actor: `staff:${staffId}`,
      action: 'auth.email_change',
      target: `staff:${staffId}`,
      outcome: 'success',
    });
    return view((await getRow(staffId))!);
  }

  /** Starts replacing the authenticator: needs the password; the old one keeps working until confirmed. */
  async function startMfaEnrollment(
    staffId: string,
    sessionId: string | null,
    password: string,
    meta: RequestMeta,
  ): Promise<{ totpUri: string }> {
    const row = await reauthenticate(staffId, sessionId, password, meta);
    const secret = newTotpSecret();
    await db
      .updateTable('staff')
      .set({ totp_pending_enc: sealFor(dataKeyOf(row), staffId, 'totp-pending', secret), updated_at: now() })
      .where('id', '=', staffId)
      .execute();
    return { totpUri: totpUri(secret, view(row).email) };
  }

  async function confirmMfaEnrollment(
    staffId: string,
    sessionId: string | null,
    code: string,
  ): Promise<{ recoveryCodes: string[] }> {
    await deps.limiter.consume('otp.account', staffId, { capacity: 10, refillPerSec: 10 / 900 });
    const row = await requireRow(staffId);
    if (row.totp_pending_enc === null) {
      throw new AppError(
        'precondition_failed',
        'Start with POST /v1/auth/mfa/enroll (with your password) before confirming.',
      );
    }
    const key = dataKeyOf(row);
    const secret = openFor(key, staffId, 'totp-pending', row.totp_pending_enc);
    const step = await verifyTotp(secret, code, now(), null);
    if (step === null) {
      deps.abuse.noteOtpFailure(staffId);
      throw new AppError(
        'invalid_credentials',
        'The code does not match the new authenticator. Enter the current code it shows.',
      );
    }
    await db
      .updateTable('staff')
      .set({
        totp_secret_enc: sealFor(key, staffId, 'totp', secret),
        totp_pending_enc: null,
        totp_last_step: step,
        totp_confirmed: 1,
        updated_at: now(),
      })
      .where('id', '=', staffId)
      .execute();
    const recoveryCodes = await issueRecoveryCodes(staffId);
    // Other sessions were opened with the old factor; only this one stays.
    let q = db
      .updateTable('staff_sessions')
      .set({ revoked_at: now() })
      .where('staff_id', '=', staffId)
      .where('revoked_at', 'is', null);
    if (sessionId) q = q.where('id', '!=', sessionId);
    await q.execute();
    await deps.audit.record({
      actor: `staff:${staffId}`,
      action: 'auth.mfa_change',
      target: `staff:${staffId}`,
      outcome: 'success',
    });
    return { recoveryCodes };
  }

  async function listStaff(): Promise<StaffView[]> {
    return (await db.selectFrom('staff').selectAll().orderBy('created_at', 'asc').execute()).map(view);
  }

  async function getStaff(id: string): Promise<StaffView> {
    return view(await requireRow(id));
  }

  /** Role and enabled-state changes by an admin/owner; audited; disabling ends every session. */
  async function updateStaff(
    id: string,
    patch: { role?: string | undefined; disabled?: boolean | undefined },
    actor: { id: string; role: StaffRole },
  ): Promise<StaffView> {
    const row = await requireRow(id);
    const current = row.role as StaffRole;
    if (!canAssignRole(actor.role, current)) {
      await deps.audit.record({
        actor: `staff:${actor.id}`,
        action: 'staff.update',
        target: `staff:${id}`,
        outcome: 'denied',
      });
      throw new AppError('forbidden', 'Only an owner can change an owner account.');
    }
    const changes: Partial<StaffRow> = {};
    if (patch.role !== undefined && patch.role !== current) {
      if (!isStaffRole(patch.role))
        throw new AppError(
          'invalid_request',
          'Unknown role; use owner, admin, analyst, marketer, support, privacy_officer or security_officer.',
        );
      if (!canAssignRole(actor.role, patch.role)) {
        await deps.audit.record({
          actor: `staff:${actor.id}`,
          action: 'staff.role_change',
          target: `staff:${id}`,
          outcome: 'denied',
          details: { from: current, to: patch.role },
        });
        throw new AppError('forbidden', `Your role cannot grant the ${patch.role} role.`);
      }
      changes.role = patch.role;
    }
    if (patch.disabled !== undefined) changes.disabled = patch.disabled ? 1 : 0;
    const losesOwner =
      current === 'owner' &&
      Number(row.disabled) === 0 &&
      ((changes.role !== undefined && changes.role !== 'owner') || changes.disabled === 1);
    if (losesOwner && (await ownerCount()) <= 1) {
      throw new AppError('conflict', 'This is the last owner account; make another owner first.');
    }
    if (Object.keys(changes).length > 0) {
      await db
        .updateTable('staff')
        .set({ ...changes, updated_at: now() })
        .where('id', '=', id)
        .execute();
    }
    if (changes.role !== undefined) {
      await deps.audit.record({
        actor: `staff:${actor.id}`,
        action: 'staff.role_change',
        target: `staff:${id}`,
        outcome: 'success',
        details: { from: current, to: changes.role },
      });
      // A role change takes effect now, not at next sign-in: sessions are re-read per request.
    }
    if (changes.disabled !== undefined) {
      const revoked = changes.disabled === 1 ? await revokeAll(id) : 0;
      await deps.audit.record({
        actor: `staff:${actor.id}`,
        action: changes.disabled === 1 ? 'staff.disable' : 'staff.enable',
        target: `staff:${id}`,
        outcome: 'success',
        details: { sessionsRevoked: revoked },
      });
    }
    return view((await getRow(id))!);
  }

  async function deleteStaff(id: string, actor: { id: string; role: StaffRole }): Promise<void> {
    const row = await requireRow(id);
    if (!canAssignRole(actor.role, row.role as StaffRole))
      throw new AppError('forbidden', 'Only an owner can remove an owner account.');
    if (id === actor.id)
      throw new AppError('conflict', 'You cannot remove your own account; ask another owner or admin.');
    if (row.role === 'owner' && Number(row.disabled) === 0 && (await ownerCount()) <= 1) {
      throw new AppError('conflict', 'This is the last owner account; make another owner first.');
    }
    await deps.state.transaction(async (trx) => {
      await trx.deleteFrom('staff_sessions').where('staff_id', '=', id).execute();
      await trx.deleteFrom('staff_recovery_codes').where('staff_id', '=', id).execute();
      await trx.deleteFrom('staff').where('id', '=', id).execute();
    });
    await deps.audit.record({
      actor: `staff:${actor.id}`,
      action: 'staff.delete',
      target: `staff:${id}`,
      outcome: 'success',
      details: { role: row.role },
    });
  }

  /** Whether this session entered the password recently enough for a sensitive change. */
  async function recentlyAuthenticated(sessionId: string): Promise<boolean> {
    const s = await db
      .selectFrom('staff_sessions')
      .select('auth_at')
      .where('id', '=', sessionId)
      .executeTakeFirst();
    return s !== undefined && Number(s.auth_at) + reauthMs > now();
  }

  /**
   * Password reset, step 1. Always answers the same way (no account enumeration). For an enabled
   * account with a confirmed authenticator, a single-use token (hashed at rest, 15 min) is put in the
   * sealed staff outbox for the shop's mailer; earlier unused tokens of the account stop working.
   * Accounts without a confirmed authenticator get nothing: a reset must be able to demand the second
   * factor, so those accounts are reset by an owner or admin.
   */
  async function requestPasswordReset(email: string, meta: RequestMeta): Promise<void> {
    const hash = emailHash(email);
    await deps.limiter.consume('reset.ip', meta.ipKey, { capacity: 10, refillPerSec: 10 / 3600 });
    await deps.limiter.consume('reset.account', hash, { capacity: 3, refillPerSec: 3 / 3600 });
    const row = await db.selectFrom('staff').selectAll().where('email_hash', '=', hash).executeTakeFirst();
    const eligible = row !== undefined && Number(row.disabled) === 0 && Number(row.totp_confirmed) === 1;
    await deps.audit.record({
      actor: row ? `staff:${row.id}` : 'anonymous',
      action: 'auth.password_reset_request',
      target: row ? `staff:${row.id}` : null,
      outcome: eligible ? 'success' : 'denied',
      details: { ip: meta.ipKey.slice(0, 16) },
    });
    if (!row || !eligible) return;
    const t = now();
    const token = randomToken(32);
    const expiresAt = t + resetTtlMs;
    await db
      .updateTable('staff_password_resets')
      .set({ used_at: t })
      .where('staff_id', '=', row.id)
      .where('used_at', 'is', null)
      .execute();
    await db
      .insertInto('staff_password_resets')
      .values({
        id: newId('pwr'),
        staff_id: row.id,
        token_hash: sha256Hex(`reset:${token}`),
        created_at: t,
        expires_at: expiresAt,
        used_at: null,
        failures: 0,
      })
      .execute();
    const dataKey = newDataKey();
    const id = newId('msg');
    const body = JSON.stringify({ to: view(row).email, token, expiresAt });
    await db
      .insertInto('staff_outbox')
      .values({
        id,
        kind: 'staff.password_reset',
        staff_id: row.id,
        data_key: deps.keyRing.wrap(dataKey),
        body_enc: seal(dataKey, body, `outbox:${id}`),
        created_at: t,
        expires_at: expiresAt,
      })
      .execute();
  }

  /**
   * Password reset, step 2: the token from the message, the new password and a current TOTP code (or a
   * recovery code). The second factor is always required, so a stolen mailbox alone never takes over an
   * account. Success ends every session; the user then signs in normally (password and code).
   */
  async function resetPassword(
    input: {
      token: string;
      newPassword: string;
      code?: string | undefined;
      recoveryCode?: string | undefined;
    },
    meta: RequestMeta,
  ): Promise<void> {
    await deps.limiter.consume('reset.ip', meta.ipKey, { capacity: 10, refillPerSec: 10 / 3600 });
    const t = now();
    const invalid = () =>
      new AppError(
        'unauthorized',
        'This reset link is invalid, expired or already used. Request a new one from the sign-in page.',
      );
    const reset = await db
      .selectFrom('staff_password_resets')
      .selectAll()
      .where('token_hash', '=', sha256Hex(`reset:${input.token}`))
      .executeTakeFirst();
    if (!reset || reset.used_at !== null || Number(reset.expires_at) <= t) throw invalid();
    await deps.limiter.consume('otp.account', reset.staff_id, { capacity: 10, refillPerSec: 10 / 900 });
    const row = await getRow(reset.staff_id);
    if (!row || Number(row.disabled) === 1 || Number(row.totp_confirmed) !== 1) throw invalid();
    const locked = lockedFor(row);
    if (locked > 0) throw lockedError(locked);
    if (input.code === undefined && input.recoveryCode === undefined)
      throw new AppError(
        'invalid_request',
        'A password reset needs the current code from your authenticator app (code) or a recovery code.',
      );
    // The password is checked before the second factor is spent, so a weak choice does not burn a code.
    checkNewPassword(input.newPassword, view(row).email);
    const { accepted, recoveryUsed } = await acceptSecondFactor(row, input, t);
    if (!accepted) {
      const failures = Number(reset.failures) + 1;
      await db
        .updateTable('staff_password_resets')
        .set({ failures, ...(failures >= MAX_OTP_FAILURES_PER_CHALLENGE ? { used_at: t } : {}) })
        .where('id', '=', reset.id)
        .execute();
      deps.abuse.noteOtpFailure(row.id);
      await recordFailure(row, meta, 'bad_code', 'auth.password_reset');
      throw new AppError(
        'invalid_credentials',
        failures >= MAX_OTP_FAILURES_PER_CHALLENGE
          ? 'Too many wrong codes. Request a new reset link.'
          : 'The code is wrong or was already used. Enter the current code from your authenticator app.',
      );
    }
    // Single use, also against a concurrent second request with the same token.
    const spent = await db
      .updateTable('staff_password_resets')
      .set({ used_at: t })
      .where('id', '=', reset.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(spent.numUpdatedRows) !== 1) throw invalid();
    await db
      .updateTable('staff')
      .set({
        password_hash: await hashPassword(input.newPassword, params),
        failed_logins: 0,
        locked_until: null,
        updated_at: t,
      })
      .where('id', '=', row.id)
      .execute();
    const revoked = await revokeAll(row.id);
    await db.deleteFrom('staff_outbox').where('staff_id', '=', row.id).execute();
    await deps.audit.record({
      actor: `staff:${row.id}`,
      action: 'auth.password_reset',
      target: `staff:${row.id}`,
      outcome: 'success',
      details: { method: recoveryUsed ? 'recovery_code' : 'totp', sessionsRevoked: revoked },
    });
  }

  /**
   * The shop's mailer takes the waiting staff messages: each is returned once, decrypted, and deleted.
   * Expired messages are dropped unsent.
   */
  async function claimOutbox(
    limit: number,
    actor: string,
  ): Promise<{ id: string; kind: string; to: string; token: string; expiresAt: number }[]> {
    const t = now();
    await db.deleteFrom('staff_outbox').where('expires_at', '<=', t).execute();
    const rows = await db
      .selectFrom('staff_outbox')
      .selectAll()
      .orderBy('created_at')
      .limit(Math.max(1, Math.min(100, limit)))
      .execute();
    const out: { id: string; kind: string; to: string; token: string; expiresAt: number }[] = [];
    for (const r of rows) {
      const deleted = await db.deleteFrom('staff_outbox').where('id', '=', r.id).executeTakeFirst();
      // Another mailer process took it first.
      if (Number(deleted.numDeletedRows) !== 1) continue;
      const body = JSON.parse(
        open(deps.keyRing.unwrap(r.data_key), Buffer.from(r.body_enc), `outbox:${r.id}`).toString('utf8'),
      ) as { to: string; token: string; expiresAt: number };
      out.push({ id: r.id, kind: r.kind, ...body });
    }
    if (out.length > 0)
      await deps.audit.record({
        actor,
        action: 'auth.outbox_claim',
        target: null,
        outcome: 'success',
        details: { messages: out.length },
      });
    return out;
  }

  return {
    createStaff,
    login,
    verifyMfa,
    authenticateSession,
    checkCsrf,
    csrfTokenFor,
    logout,
    logoutAll,
    changePassword,
    changeEmail,
    startMfaEnrollment,
    confirmMfaEnrollment,
    listStaff,
    getStaff,
    updateStaff,
    deleteStaff,
    recentlyAuthenticated,
    requestPasswordReset,
    resetPassword,
    claimOutbox,
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
