import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { testEnv } from '../../kernel/config.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { openSqliteStateStore } from '../../storage/index.ts';
import { makeTempDir } from '../../storage/testing.ts';
import { abuseCountersContract } from './abuse-counters.contract.ts';
import { createRedisAbuseCounters } from './abuse-counters.ts';
import { createAbuseDetector } from './abuse.service.ts';
import type { AuditRecord } from './deps.ts';
import { authMigrations } from './store.ts';

const url = testEnv().redisUrl ?? 'redis://127.0.0.1:6379';

// Each run gets its own prefix so parallel runs never share windows; a contract opening shares it, as
// two API processes of one deployment would.
const prefix = `candor-test:abuse:${process.pid}:${Date.now()}:`;
abuseCountersContract('redis', async (limits) => createRedisAbuseCounters(url, limits, { prefix }));

afterAll(async () => {
  const redis = new Redis(url);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('abuse detection across API processes', () => {
  it('flags a password sprayer who spreads attempts over two processes, once', async () => {
    const dir = makeTempDir('abuse-shared');
    const state = await openSqliteStateStore({ file: `${dir.path}/s.db` });
    await state.migrate(authMigrations);
    const audited: AuditRecord[] = [];
    const clock = fixedClock('2025-02-01T00:00:00Z');
    const limits = { windowMs: 600_000, capacity: 10_000 };
    const processes = [0, 1].map(() => {
      const counters = createRedisAbuseCounters(url, limits, { prefix: `${prefix}spray:` });
      const detector = createAbuseDetector(
        {
          state,
          clock,
          logger: silentLogger(),
          audit: { record: async (e) => void audited.push(e) },
          counters,
        },
        { sprayAccounts: 5 },
      );
      return { counters, detector };
    });
    // Four accounts on one process and four on the other: under the threshold of 5 on each alone.
    for (let i = 0; i < 8; i++) {
      processes[i % 2]!.detector.noteLoginFailure('ipk_sprayer', `acc_${i}`);
      await Promise.all(processes.map((p) => p.detector.flush()));
    }
    const alerts = await processes[0]!.detector.listAlerts({ kind: 'password_spraying' });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ subject: 'ip:ipk_sprayer', severity: 'high' });
    expect(audited.filter((a) => a.action === 'security.alert')).toHaveLength(1);
    for (const p of processes) await p.counters.close();
    await state.close();
    dir.cleanup();
  });
});

describe('abuse counters with Redis away', () => {
  it('fail the notes (the detector logs and goes on) and close', async () => {
    const counters = createRedisAbuseCounters('redis://127.0.0.1:1', { windowMs: 60_000, capacity: 10 });
    await expect(counters.hit('w', 1, 'v', 1, true)).rejects.toThrow();
    await counters.close();
  });
});
