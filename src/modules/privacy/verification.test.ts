/**
 * Identity verification of requests made by e-mail: a one-time code with a short TTL and an attempt limit,
 * bound to its request; staff can never approve a request before it is verified. Real SQLite, fixed clock.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { hasCode } from '../../kernel/errors.ts';
import { createLogger } from '../../kernel/logger.ts';
import { openSqliteStateStore } from '../../storage/adapters/sqlite/sqlite.state-store.ts';
import type { StateStore } from '../../storage/ports.ts';
import { makeTempDir, type TempDir } from '../../storage/testing.ts';
import { MailError } from '../../kernel/mailer.ts';
import { createPrivacyService, type AuditRecorder, type ErasureStatus } from './privacy.service.ts';
import { privacyMigrations } from './store.ts';
import { CODE_MAX_ATTEMPTS, CODE_SENDS_PER_HOUR, CODE_TTL_MS } from './verification.ts';

const SUBJECT = { userId: 'user-pseudonym-1', subjectIds: ['user-pseudonym-1', 'device-pseudonym-1'] };
const EMAIL = 'known@example.test';

let dir: TempDir;
let state: StateStore;
let codes: { requestId: string; code: string; expiresAt: number; locale: string }[];
/** When set, the code channel fails like an unreachable relay. */
let channelDown: boolean;
/** When set, the relay answers only once it resolves (a slow relay). */
let relayGate: Promise<void> | null;
let audits: Parameters<AuditRecorder['record']>[0][];
let erased: string[];
const clock = fixedClock('2026-03-02T09:00:00Z');

async function service(options: { channel?: boolean } = {}) {
  return createPrivacyService(
    {
      state,
      clock,
      logger: createLogger({ level: 'silent' }),
      audit: { record: async (e) => void audits.push(e) },
      runners: {
        exportBundle: async (_subject, requestId) => ({
          generatedAt: clock.now().getTime(),
          document: { requestId },
          csv: {},
        }),
        erase: async (requestId): Promise<ErasureStatus> => {
          erased.push(requestId);
          return { requestId, status: 'completed', targets: [], receipt: null };
        },
      },
      sendCode:
        options.channel === false
          ? undefined
          : async ({ requestId, code, expiresAt, locale }) => {
              if (relayGate) await relayGate;
              if (channelDown)
                throw new MailError(null, 'The mail relay could not be reached (ECONNREFUSED).');
              codes.push({ requestId, code, expiresAt, locale });
            },
      findSubjectByEmail: async (email) => (email === EMAIL ? SUBJECT : null),
    },
    { codeSecret: Buffer.alloc(32, 7).toString('base64') },
  );
}

beforeEach(async () => {
  dir = makeTempDir('candor-verification');
  state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
  await state.migrate(privacyMigrations('sqlite'));
  codes = [];
  audits = [];
  erased = [];
  channelDown = false;
  relayGate = null;
  clock.set('2026-03-02T09:00:00Z');
});
afterEach(async () => {
  await state.close();
  dir.cleanup();
});

const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('identity verification by one-time code', () => {
  it('answers a verified export at once and accepts a code only once', async () => {
    const s = await service();
    const { requestId } = await s.requestByEmail({
      email: EMAIL,
      kind: 'export',
      jurisdiction: 'uu_pdp',
      actor: { kind: 'anonymous' },
    });
    await s.settle();
    expect(codes).toHaveLength(1);
    expect(codes[0]!.expiresAt - clock.now().getTime()).toBe(CODE_TTL_MS);
    const out = await s.verify(requestId, codes[0]!.code);
    expect(out.status).toBe('completed');
    expect(out.bundle?.document).toEqual({ requestId });
    await expect(s.verify(requestId, codes[0]!.code)).rejects.toSatisfy((e) => hasCode(e, 'conflict'));
    // The audit trail names the request, never the shopper.
    expect(JSON.stringify(audits)).not.toContain('pseudonym');
  });

  it('sends the code in the language of the request, and a resend uses it too', async () => {
    const s = await service();
    const { requestId } = await s.requestByEmail({
      email: EMAIL,
      kind: 'export',
      jurisdiction: 'gdpr',
      actor: { kind: 'anonymous' },
      locale: 'zh',
    });
    await s.settle();
    await s.resendCode(requestId, { kind: 'staff', staffId: 'staff_1' });
    expect(codes.map((c) => c.locale)).toEqual(['zh', 'zh']);
    // The first code stopped working when the second was issued.
    await expect(s.verify(requestId, codes[0]!.code)).rejects.toSatisfy((e) => hasCode(e, 'invalid_request'));
    expect((await s.verify(requestId, codes[1]!.code)).status).toBe('completed');
  });

  it('refuses every address alike when no channel is configured, and records nothing', async () => {
    const s = await service({ channel: false });
    for (const email of [EMAIL, 'stranger@example.test']) {
      await expect(
        s.requestByEmail({ email, kind: 'export', jurisdiction: 'gdpr', actor: { kind: 'anonymous' } }),
      ).rejects.toSatisfy((e) => hasCode(e, 'unavailable') && /CANDOR_SMTP_URL/.test((e as Error).message));
    }
    expect(await s.dsar.list()).toEqual([]);
  });

  it('keeps a rejection made while a failing relay was still trying to send the code', async () => {
    const s = await service();
    let release!: () => void;
    relayGate = new Promise((r) => (release = r));
    channelDown = true;
    const { requestId } = await s.requestByEmail({
      email: EMAIL,
      kind: 'erase',
      jurisdiction: 'gdpr',
      actor: { kind: 'anonymous' },
    });
    await s.reject(requestId, 'staff_1', 'Duplicate of an earlier request.');
    release();
    await s.settle();
    const request = await s.dsar.require(requestId);
    expect(request.status).toBe('rejected');
    expect(request.note).toBe('Duplicate of an earlier request.');
  });

  it('answers the public form the same when the relay fails, and tells staff on the request', async () => {
    const s = await service();
    channelDown = true;
    const { requestId } = await s.requestByEmail({
      email: EMAIL,
      kind: 'export',
      jurisdiction: 'gdpr',
      actor: { kind: 'anonymous' },
    });
    await s.settle();
    const request = await s.dsar.require(requestId);
    expect(request.status).toBe('awaiting_verification');
    expect(request.note).toMatch(/could not be sent .*ECONNREFUSED.*Resend it/);
    // Staff entering a request see the failure at once (503), and the request is kept for a resend.
    await expect(
      s.requestByEmail({
        email: EMAIL,
        kind: 'erase',
        jurisdiction: 'gdpr',
        actor: { kind: 'staff', staffId: 'staff_1' },
      }),
    ).rejects.toSatisfy((e) => hasCode(e, 'unavailable') && /Resend it/.test((e as Error).message));
    channelDown = false;
    await s.resendCode(requestId, { kind: 'staff', staffId: 'staff_1' });
    expect((await s.verify(requestId, codes[0]!.code)).status).toBe('completed');
  });

  it(`sends at most ${CODE_SENDS_PER_HOUR} codes an hour to one shopper through the public form`, async () => {
    const s = await service();
    const ask = () =>
      s.requestByEmail({ email: EMAIL, kind: 'export', jurisdiction: 'gdpr', actor: { kind: 'anonymous' } });
    const ids = [];
    for (let i = 0; i < CODE_SENDS_PER_HOUR + 2; i++) ids.push((await ask()).requestId);
    await s.settle();
    expect(ids).toHaveLength(CODE_SENDS_PER_HOUR + 2);
    expect(codes).toHaveLength(CODE_SENDS_PER_HOUR);
    expect((await s.dsar.require(ids.at(-1)!)).note).toMatch(/No code sent/);
    clock.advance(60 * 60 * 1000 + 1);
    await ask();
    await s.settle();
    expect(codes).toHaveLength(CODE_SENDS_PER_HOUR + 1);
  });

  it('answers an unknown address exactly like a known one, and sends no code', async () => {
    const s = await service();
    const { requestId } = await s.requestByEmail({
      email: 'stranger@example.test',
      kind: 'erase',
      jurisdiction: 'gdpr',
      actor: { kind: 'anonymous' },
    });
    expect(requestId).toMatch(/^dsar/);
    await s.settle();
    expect(codes).toEqual([]);
    // Its (never sent) code counts wrong guesses and locks like a real one.
    for (let i = 0; i < CODE_MAX_ATTEMPTS; i++)
      await expect(s.verify(requestId, String(i).padStart(6, '0'))).rejects.toSatisfy((e) =>
        hasCode(e, 'invalid_request'),
      );
    await expect(s.verify(requestId, '999999')).rejects.toSatisfy((e) => hasCode(e, 'rate_limited'));
  });

  it('tells staff that a request naming no one cannot get a code, and tells the public nothing', async () => {
    const s = await service();
    const { requestId } = await s.requestByEmail({
      email: 'stranger@example.test',
      kind: 'export',
      jurisdiction: 'gdpr',
      actor: { kind: 'anonymous' },
    });
    await s.settle();
    await expect(s.resendCode(requestId, { kind: 'staff', staffId: 'staff_1' })).rejects.toSatisfy(
      (e) => hasCode(e, 'conflict') && /names no one/.test((e as Error).message),
    );
    // A public resend answers as it would for anyone.
    await expect(s.resendCode(requestId, { kind: 'anonymous' })).resolves.toBeUndefined();
    expect(codes).toEqual([]);
  });

  it('refuses an expired code, and a new code works', async () => {
    const s = await service();
    const { requestId } = await s.requestByEmail({
      email: EMAIL,
      kind: 'export',
      jurisdiction: 'gdpr',
      actor: { kind: 'anonymous' },
    });
    await s.settle();
    clock.advance(CODE_TTL_MS);
    await expect(s.verify(requestId, codes[0]!.code)).rejects.toThrow(/expired/);
    await s.resendCode(requestId, { kind: 'anonymous' });
    expect(codes).toHaveLength(2);
    expect((await s.verify(requestId, codes[1]!.code)).status).toBe('completed');
  });

  it(`locks after ${CODE_MAX_ATTEMPTS} wrong codes, even against the right one`, async () => {
    const s = await service();
    const { requestId } = await s.requestByEmail({
      email: EMAIL,
      kind: 'export',
      jurisdiction: 'gdpr',
      actor: { kind: 'anonymous' },
    });
    await s.settle();
    const code = codes[0]!.code;
    for (let i = 0; i < CODE_MAX_ATTEMPTS; i++)
      await expect(s.verify(requestId, wrong(code))).rejects.toSatisfy((e) => hasCode(e, 'invalid_request'));
    await expect(s.verify(requestId, code)).rejects.toSatisfy((e) => hasCode(e, 'rate_limited'));
    expect((await s.dsar.require(requestId)).status).toBe('awaiting_verification');
  });

  it('never lets staff approve an erasure before the shopper verifies it, then runs it once verified', async () => {
    const s = await service();
    const { requestId } = await s.requestByEmail({
      email: EMAIL,
      kind: 'erase',
      jurisdiction: 'ccpa',
      actor: { kind: 'staff', staffId: 'staff_1' },
    });
    await expect(s.approve(requestId, 'staff_1')).rejects.toSatisfy((e) => hasCode(e, 'precondition_failed'));
    await expect(s.verify(requestId, wrong(codes[0]!.code))).rejects.toThrow(/not right/);
    await expect(s.approve(requestId, 'staff_1')).rejects.toSatisfy((e) => hasCode(e, 'precondition_failed'));
    expect(erased).toEqual([]);
    expect(audits.filter((a) => a.action === 'privacy.approve').map((a) => a.outcome)).toEqual([
      'denied',
      'denied',
    ]);

    // A verified erasure waits for staff; it does not run on verification alone.
    expect(await s.verify(requestId, codes[0]!.code)).toEqual({ status: 'verified' });
    expect(erased).toEqual([]);
    await s.approve(requestId, 'staff_1');
    expect(erased).toEqual([requestId]);
  });

  it('binds a code to its request', async () => {
    const s = await service();
    const a = await s.requestByEmail({
      email: EMAIL,
      kind: 'export',
      jurisdiction: 'gdpr',
      actor: { kind: 'anonymous' },
    });
    const b = await s.requestByEmail({
      email: EMAIL,
      kind: 'export',
      jurisdiction: 'gdpr',
      actor: { kind: 'anonymous' },
    });
    await s.settle();
    const codeA = codes.find((c) => c.requestId === a.requestId)!.code;
    const codeB = codes.find((c) => c.requestId === b.requestId)!.code;
    if (codeA !== codeB)
      await expect(s.verify(b.requestId, codeA)).rejects.toSatisfy((e) => hasCode(e, 'invalid_request'));
    expect((await s.verify(b.requestId, codeB)).status).toBe('completed');
  });
});
