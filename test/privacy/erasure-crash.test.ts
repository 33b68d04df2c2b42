/**
 * Issue 4: an erasure survives a crash mid-way. The process is killed (SIGKILL) while a target is running;
 * on restart the unfinished request resumes, completes every target and only then issues its receipt. The
 * receipt states the physical purge of the shopper's events as it stands: `purged` when the erasure rewrote
 * the event file itself (a small shop), `scheduled` with a deadline above the inline limit, after which the
 * hourly `events.purge` job removes the bytes.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../../src/flows/dsar-erase/index.ts';
import { createPseudonymizer } from '../../src/kernel/crypto.ts';
import type { AuthModule } from '../../src/modules/auth/index.ts';
import { EVENTS_PURGE_EVERY_MS, EVENTS_PURGE_JOB } from '../../src/modules/privacy/index.ts';
import { openShop, scanFor, type Shop } from './helpers.ts';

/** Two process starts, a kill and a resume: generous on a shared, loaded machine. */
const SLOW = 120_000;
let shop: Shop | undefined;
afterEach(async () => {
  await shop?.close();
  shop?.dir.cleanup();
  shop = undefined;
});

const slowHolder = {
  describe: () => ({ name: 'slow', summary: 'test holder', tables: [] }),
  export: async () => ({ tables: {} }),
  erase: async () => ({ deleted: 0 }),
};

/**
 * A shopper with events among other shoppers' events, an erasure started in a child process that is
 * killed at `mode`, and the installation reopened (with `config`) with the unfinished request waiting.
 */
async function crashMidErasure(mode: 'holder' | 'purge', config: Record<string, unknown> = {}) {
  shop = await openShop(undefined, undefined, { config });
  const dir = shop.dir;
  const secrets = shop.candor.config.secrets;
  const tag = randomBytes(6).toString('hex');
  const customerId = `cust-${tag}`;
  const email = `crash.${tag}@example.test`;
  for (const userId of [customerId, `other-${tag}`]) {
    await shop.call('POST', '/v1/consent', {
      body: {
        writeKey: shop.writeKey,
        userId,
        purposes: { analytics: true, personalization: true },
        noticeVersion: '1',
      },
    });
    for (let i = 0; i < 3; i++)
      await shop.track({
        type: 'track',
        event: 'Product Viewed',
        userId,
        properties: { product_id: `p${i}`, category: 'Tents' },
      });
  }
  await shop.track({ type: 'identify', userId: customerId, traits: { email } });
  await shop.waitForEvents(7);
  await shop.close();
  shop = undefined;

  const child = spawn(
    process.execPath,
    [
      path.join(import.meta.dirname, 'erase-child.ts'),
      dir.path,
      customerId,
      JSON.stringify(secrets),
      mode,
      JSON.stringify(config),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('IN_SLOW_TARGET')) resolve();
    });
    child.on('exit', (code) =>
      reject(new Error(`child exited (${code}) before reaching the crash point: ${stderr}`)),
    );
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));

  shop = await openShop(dir, secrets, { config });
  // The holder that was cut short is registered again (it now completes).
  if (mode === 'holder') shop.privacy.registry.register(slowHolder);
  const [pending] = await shop.privacy.service.dsar.unfinished();
  expect(pending).toBeDefined();
  expect(pending!.receipt).toBeNull();
  const pseudo = createPseudonymizer(secrets.pseudonymKey!);
  return {
    shop,
    requestId: pending!.id,
    needles: [email, customerId, pseudo('user', customerId)],
    others: [pseudo('user', `other-${tag}`)],
  };
}

describe('issue 4: erasure survives a crash', () => {
  it(
    'resumes after SIGKILL and issues the receipt only when every target is done',
    async () => {
      const { shop: s, requestId, needles } = await crashMidErasure('holder');
      const before = await s.privacy.service.dsar.targets(requestId);
      expect(before.find((t) => t.target === 'holder:profiles')?.status).toBe('done');
      expect(before.find((t) => t.target === 'holder:slow')?.status).toBe('pending');

      const [resumed] = await s.privacy.service.resumeUnfinished();
      expect(resumed!.status).toBe('completed');
      expect(resumed!.targets.every((t) => t.status === 'done')).toBe(true);
      expect(verifyReceipt(resumed!.receipt!)).toBe(true);
      // A small shop: the erasure rewrote the event file before signing.
      expect(resumed!.receipt!.eventPurge).toEqual({
        status: 'purged',
        purgedAt: expect.any(Number) as number,
      });
      expect(await s.privacy.service.dsar.unfinished()).toEqual([]);

      const dataDir = s.candor.config.dataDir;
      await s.close();
      expect(scanFor(dataDir, needles)).toEqual([]);
    },
    SLOW,
  );

  it(
    'resumes after a crash between the event-file rewrite and its record, and purges again',
    async () => {
      const { shop: s, requestId, needles, others } = await crashMidErasure('purge');
      const before = await s.privacy.service.dsar.targets(requestId);
      expect(before.find((t) => t.target === 'holder:event-store')?.status).toBe('done');
      expect(before.find((t) => t.target === 'compact:events')?.status).toBe('pending');

      const [resumed] = await s.privacy.service.resumeUnfinished();
      expect(resumed!.status).toBe('completed');
      expect(verifyReceipt(resumed!.receipt!)).toBe(true);
      expect(resumed!.receipt!.eventPurge?.status).toBe('purged');

      const dataDir = s.candor.config.dataDir;
      await s.close();
      expect(scanFor(dataDir, needles)).toEqual([]);
      // The rewritten file still holds everyone else's events.
      expect(scanFor(dataDir, others).map((h) => h.file)).toContain('events.duckdb');
    },
    SLOW,
  );

  it(
    'above the inline limit, the resumed receipt says "scheduled" by when, and the job keeps that promise',
    async () => {
      const {
        shop: s,
        requestId,
        needles,
      } = await crashMidErasure('holder', {
        privacy: { inlinePurgeMaxEvents: 0 },
      });
      const [resumed] = await s.privacy.service.resumeUnfinished();
      expect(resumed!.status).toBe('completed');
      const receipt = resumed!.receipt!;
      expect(verifyReceipt(receipt)).toBe(true);
      expect(receipt.eventPurge?.status).toBe('scheduled');
      const purgeBy = (receipt.eventPurge as { purgeBy: number }).purgeBy;
      // Two purge periods from the moment the events were deleted (before the receipt was signed).
      expect(purgeBy).toBeGreaterThan(receipt.completedAt);
      expect(purgeBy).toBeLessThanOrEqual(receipt.completedAt + 2 * EVENTS_PURGE_EVERY_MS);
      // The shopper's events are gone from every query already.
      const deleted = receipt.targets.find((t) => t.target === 'holder:event-store')?.deleted;
      expect(deleted).toBeGreaterThanOrEqual(3);

      // Staff see where the purge stands now; the signed receipt keeps what it promised.
      const auth = s.candor.modules.find((m) => m.name === 'auth') as AuthModule;
      const key = `Bearer ${(await auth.keys.createServerKey({ name: 'desk', scopes: ['dsar:manage'] }, 'system:test')).key}`;
      const detail = async () =>
        (await (await s.call('GET', `/v1/privacy/requests/${requestId}`, { auth: key })).json()) as {
          eventPurge: { status: string };
          request: { receipt: typeof receipt };
        };
      expect((await detail()).eventPurge).toEqual({ status: 'scheduled', purgeBy });

      await s.privacy.jobs![EVENTS_PURGE_JOB]!(null, { jobId: 'job-test', attempt: 1 });
      const after = await detail();
      expect(after.eventPurge).toEqual({ status: 'purged', purgedAt: expect.any(Number) as number });
      expect(after.request.receipt.eventPurge).toEqual(receipt.eventPurge);

      const dataDir = s.candor.config.dataDir;
      await s.close();
      expect(scanFor(dataDir, needles)).toEqual([]);
    },
    SLOW,
  );
});
