/**
 * The jobs contract: `createJobs` on every state-store adapter runs exactly this code (sqlite.test.ts,
 * postgres.server.test.ts). A fixed clock drives leases, backoff and schedules deterministically.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { createJobs } from '../jobs/jobs.ts';
import { jobsMigrations } from '../jobs/jobs.migrations.ts';
import type { Jobs } from '../ports.ts';
import type { StateStoreFixture } from './state-store.contract.ts';

const BASE = 1_000;

export function describeJobsContract(name: string, open: () => Promise<StateStoreFixture>): void {
  describe(`Jobs contract: ${name}`, () => {
    let fx: StateStoreFixture;
    let clock: ReturnType<typeof fixedClock>;
    let jobs: Jobs;

    beforeEach(async () => {
      fx = await open();
      await fx.store.migrate(jobsMigrations);
      clock = fixedClock('2030-03-01T00:00:00Z');
      jobs = createJobs(fx.store, clock, { backoffBaseMs: BASE, backoffMaxMs: 60_000 });
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    it('enqueues once per unique key while the job is pending, and again once it is done', async () => {
      const a = await jobs.enqueue('mail', { to: 1 }, { uniqueKey: 'k1' });
      const b = await jobs.enqueue('mail', { to: 2 }, { uniqueKey: 'k1' });
      expect(a.created).toBe(true);
      expect(b).toEqual({ id: a.id, created: false });
      const claimed = await jobs.claim('w1', ['mail'], 10_000);
      expect(claimed).toMatchObject({ id: a.id, payload: { to: 1 }, attempts: 1, uniqueKey: 'k1' });
      expect((await jobs.enqueue('mail', {}, { uniqueKey: 'k1' })).created).toBe(false);
      await jobs.complete(a.id, 'w1');
      const c = await jobs.enqueue('mail', {}, { uniqueKey: 'k1' });
      expect(c.created).toBe(true);
      expect(c.id).not.toBe(a.id);
      expect(await jobs.counts()).toEqual({ queued: 1, running: 0, done: 1, failed: 0 });
    });

    it('claims only due jobs of the asked kinds', async () => {
      await jobs.enqueue('later', {}, { runAt: clock.now().getTime() + 5_000 });
      await jobs.enqueue('other', {});
      expect(await jobs.claim('w1', ['later'], 1_000)).toBeNull();
      expect(await jobs.claim('w1', [], 1_000)).toBeNull();
      clock.advance(5_000);
      expect((await jobs.claim('w1', ['later'], 1_000))?.kind).toBe('later');
    });

    it('makes a job claimable again when its lease expires, and the old holder loses it', async () => {
      const { id } = await jobs.enqueue('sync', {});
      expect((await jobs.claim('w1', ['sync'], 1_000))?.id).toBe(id);
      expect(await jobs.claim('w2', ['sync'], 1_000)).toBeNull();
      clock.advance(1_001);
      const again = await jobs.claim('w2', ['sync'], 1_000);
      expect(again).toMatchObject({ id, attempts: 2 });
      await expect(jobs.complete(id, 'w1')).rejects.toMatchObject({ code: 'conflict' });
      await jobs.complete(id, 'w2');
      expect((await jobs.get(id))?.status).toBe('done');
    });

    it('retries a failed job after an exponential backoff with jitter, then gives up at maxAttempts', async () => {
      const { id } = await jobs.enqueue('hook', {}, { maxAttempts: 3 });
      const t0 = clock.now().getTime();
      await jobs.claim('w1', ['hook'], 10_000);
      const f1 = await jobs.fail(id, 'w1', 'timeout');
      expect(f1.willRetry).toBe(true);
      expect(f1.nextRunAt! - t0).toBeGreaterThanOrEqual(BASE * 0.75);
      expect(f1.nextRunAt! - t0).toBeLessThanOrEqual(BASE * 1.25);
      expect(await jobs.claim('w1', ['hook'], 10_000)).toBeNull();
      clock.set(new Date(f1.nextRunAt!));
      const t1 = clock.now().getTime();
      await jobs.claim('w1', ['hook'], 10_000);
      const f2 = await jobs.fail(id, 'w1', 'timeout');
      expect(f2.nextRunAt! - t1).toBeGreaterThanOrEqual(BASE * 2 * 0.75);
      expect(f2.nextRunAt! - t1).toBeLessThanOrEqual(BASE * 2 * 1.25);
      clock.set(new Date(f2.nextRunAt!));
      expect((await jobs.claim('w1', ['hook'], 10_000))?.attempts).toBe(3);
      expect(await jobs.fail(id, 'w1', 'still down')).toEqual({ willRetry: false, nextRunAt: null });
      expect(await jobs.get(id)).toMatchObject({ status: 'failed', attempts: 3, lastError: 'still down' });
      clock.advance(3_600_000);
      expect(await jobs.claim('w1', ['hook'], 10_000)).toBeNull();
    });

    it('fails a job whose lease expired on its last attempt instead of running it forever', async () => {
      const { id } = await jobs.enqueue('crashy', {}, { maxAttempts: 1 });
      await jobs.claim('w1', ['crashy'], 1_000);
      clock.advance(1_001);
      expect(await jobs.claim('w2', ['crashy'], 1_000)).toBeNull();
      expect((await jobs.get(id))?.status).toBe('failed');
    });

    it('never lets two workers claim the same job', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 40; i++) ids.add((await jobs.enqueue('bulk', { i })).id);
      const second = await fx.reopen();
      try {
        const other = createJobs(second, clock, { backoffBaseMs: BASE });
        const worker = async (j: Jobs, name: string) => {
          const got: string[] = [];
          for (;;) {
            const job = await j.claim(name, ['bulk'], 60_000);
            if (!job) return got;
            got.push(job.id);
          }
        };
        const results = await Promise.all([
          worker(jobs, 'w1'),
          worker(other, 'w2'),
          worker(jobs, 'w3'),
          worker(other, 'w4'),
        ]);
        const all = results.flat();
        expect(all.length).toBe(40);
        expect(new Set(all)).toEqual(ids);
      } finally {
        if (second !== fx.store) await second.close();
      }
    });

    it('enqueues a due schedule exactly once per period, even with concurrent tickers', async () => {
      await jobs.schedule('retention', 'retention_run', 60_000, { scope: 'all' });
      const second = await fx.reopen();
      try {
        const other = createJobs(second, clock);
        const tickers = () => [
          jobs.tickSchedules(),
          other.tickSchedules(),
          jobs.tickSchedules(),
          other.tickSchedules(),
        ];
        expect((await Promise.all(tickers())).reduce((a, b) => a + b, 0)).toBe(1);
        expect((await Promise.all(tickers())).reduce((a, b) => a + b, 0)).toBe(0);
        clock.advance(59_999);
        expect(await jobs.tickSchedules()).toBe(0);
        clock.advance(1);
        expect((await Promise.all(tickers())).reduce((a, b) => a + b, 0)).toBe(1);
        // Missed periods collapse into one run.
        clock.advance(10 * 60_000);
        expect((await Promise.all(tickers())).reduce((a, b) => a + b, 0)).toBe(1);
        const job = await jobs.claim('w1', ['retention_run'], 1_000);
        expect(job?.payload).toEqual({ scope: 'all' });
        expect((await jobs.counts()).queued + (await jobs.counts()).running).toBe(3);
      } finally {
        if (second !== fx.store) await second.close();
      }
    });

    it('refuses invalid options with a message that says what to fix', async () => {
      await expect(jobs.enqueue('x', {}, { maxAttempts: 0 })).rejects.toMatchObject({
        code: 'invalid_request',
      });
      await expect(jobs.schedule('s', 'x', 0)).rejects.toMatchObject({ code: 'invalid_request' });
      expect(await jobs.get('job_missing')).toBeNull();
    });
  });
}
