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
import { createPrivacyService, type AuditRecorder, type ErasureStatus } from './privacy.service.ts';
import { privacyMigrations } from './store.ts';
import { CODE_MAX_ATTEMPTS, CODE_TTL_MS } from './verification.ts';

const SUBJECT = { userId: 'user-pseudonym-1', subjectIds: ['user-pseudonym-1', 'device-pseudonym-1'] };
const EMAIL = 'known@example.test';

let dir: TempDir;
let state: StateStore;
let codes: { requestId: string; code: string; expiresAt: number }[];
let audits: Parameters<AuditRecorder['record']>[0][];
let erased: string[];
const clock = fixedClock('2026-03-02T09:00:00Z');

async function service() {
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
      sendCode: async ({ requestId, code, expiresAt }) => void codes.push({ requestId, code, expiresAt }),
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
    expect(codes).toHaveLength(1);
    expect(codes[0]!.expiresAt - clock.now().getTime()).toBe(CODE_TTL_MS);
    const out = await s.verify(requestId, codes[0]!.code);
    expect(out.status).toBe('completed');
    expect(out.bundle?.document).toEqual({ requestId });
    await expect(s.verify(requestId, codes[0]!.code)).rejects.toSatisfy((e) => hasCode(e, 'conflict'));
    // The audit trail names the request, never the shopper.
    expect(JSON.stringify(audits)).not.toContain('pseudonym');
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
    expect(codes).toEqual([]);
    await expect(s.verify(requestId, '123456')).rejects.toSatisfy((e) => hasCode(e, 'invalid_request'));
  });

  it('refuses an expired code, and a new code works', async () => {
    const s = await service();
    const { requestId } = await s.requestByEmail({
      email: EMAIL,
      kind: 'export',
      jurisdiction: 'gdpr',
      actor: { kind: 'anonymous' },
    });
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
    const codeA = codes.find((c) => c.requestId === a.requestId)!.code;
    const codeB = codes.find((c) => c.requestId === b.requestId)!.code;
    if (codeA !== codeB)
      await expect(s.verify(b.requestId, codeA)).rejects.toSatisfy((e) => hasCode(e, 'invalid_request'));
    expect((await s.verify(b.requestId, codeB)).status).toBe('completed');
  });
});
