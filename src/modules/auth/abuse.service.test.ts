import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { openSqliteStateStore } from '../../storage/index.ts';
import type { StateStore } from '../../storage/ports.ts';
import { makeTempDir, type TempDir } from '../../storage/testing.ts';
import { createAbuseDetector, type AbuseDetector } from './abuse.service.ts';
import type { AuditRecord } from './deps.ts';
import { authMigrations } from './store.ts';

let dir: TempDir;
let state: StateStore;
let detector: AbuseDetector;
let audited: AuditRecord[];
const clock = fixedClock('2025-02-01T00:00:00Z');

beforeEach(async () => {
  dir = makeTempDir('abuse');
  state = await openSqliteStateStore({ file: `${dir.path}/s.db` });
  await state.migrate(authMigrations);
  audited = [];
  detector = createAbuseDetector(
    { state, clock, logger: silentLogger(), audit: { record: async (e) => void audited.push(e) } },
    { piiReads: 50, otpFailures: 5, keyRequests: 100, scrapeRequests: 100 },
  );
});

afterEach(async () => {
  await state.close();
  dir.cleanup();
});

describe('abuse detection', () => {
  it('flags staff bulk reads of personal data once per cool-down', async () => {
    for (let i = 0; i < 49; i++) detector.notePiiRead('stf_1');
    await detector.flush();
    expect(await detector.listAlerts({})).toHaveLength(0);
    detector.notePiiRead('stf_1');
    detector.notePiiRead('stf_1', 20);
    await detector.flush();
    const alerts = await detector.listAlerts({});
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'bulk_pii_read', subject: 'staff:stf_1' });
    expect(audited.map((a) => a.action)).toEqual(['security.alert']);
  });

  it('flags OTP brute force and unusual key volume', async () => {
    for (let i = 0; i < 5; i++) detector.noteOtpFailure('stf_2');
    for (let i = 0; i < 100; i++) detector.noteKeyRequest('src_1');
    await detector.flush();
    expect((await detector.listAlerts({})).map((a) => a.kind).sort()).toEqual([
      'otp_brute_force',
      'unusual_key_volume',
    ]);
  });

  it('forgets events outside the window', async () => {
    for (let i = 0; i < 4; i++) detector.noteOtpFailure('stf_3');
    clock.advance(11 * 60_000);
    detector.noteOtpFailure('stf_3');
    await detector.flush();
    expect(await detector.listAlerts({ kind: 'otp_brute_force' })).toHaveLength(0);
  });

  it('flags scraping from one IP pseudonym', async () => {
    for (let i = 0; i < 100; i++) detector.notePublicRequest('ipk_1');
    await detector.flush();
    expect(await detector.listAlerts({ kind: 'scraping' })).toHaveLength(1);
  });

  it('goes on when shared counters fail: nothing thrown to the request, one error logged', async () => {
    const errors: string[] = [];
    const logger = { ...silentLogger(), error: (_: unknown, msg?: string) => void errors.push(msg ?? '') };
    const failing = createAbuseDetector(
      {
        state,
        clock,
        logger: logger as ReturnType<typeof silentLogger>,
        audit: { record: async (e) => void audited.push(e) },
        counters: {
          hit: () => Promise.reject(new Error('connection lost')),
          keyRequest: () => Promise.reject(new Error('connection lost')),
          claimAlert: () => Promise.reject(new Error('connection lost')),
          close: async () => undefined,
        },
      },
      { otpFailures: 1 },
    );
    for (let i = 0; i < 50; i++) {
      failing.noteOtpFailure('stf_9');
      failing.noteLoginFailure('ipk_9', `acc_${i}`);
      failing.noteKeyRequest('src_9');
    }
    await failing.flush();
    expect(errors).toEqual(['abuse counters unavailable: notes are not being counted']);
    expect(await failing.listAlerts({})).toHaveLength(0);
  });
});
