import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../kernel/logger.ts';
import { openSqliteStateStore } from '../adapters/sqlite/sqlite.state-store.ts';
import type { Jobs, StateStore } from '../ports.ts';
import { makeTempDir, type TempDir } from '../testing.ts';
import { createJobRunner } from './job-runner.ts';
import { createJobs } from './jobs.ts';
import { jobsMigrations } from './jobs.migrations.ts';

describe('job runner', () => {
  let dir: TempDir;
  let state: StateStore;
  let jobs: Jobs;

  beforeEach(async () => {
    dir = makeTempDir('candor-runner');
    state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
    await state.migrate(jobsMigrations);
    jobs = createJobs(state);
  });
  afterEach(async () => {
    await state.close();
    dir.cleanup();
  });

  it('runOnce runs due jobs and scheduled ones, records failures, and leaves other kinds alone', async () => {
    const done: unknown[] = [];
    await jobs.enqueue('ok', { n: 1 });
    await jobs.enqueue('ok', { n: 2 });
    const bad = await jobs.enqueue('bad', {}, { maxAttempts: 1 });
    await jobs.enqueue('unhandled', {});
    await jobs.schedule('nightly', 'ok', 86_400_000, { n: 3 });
    const runner = createJobRunner({
      jobs,
      workerId: 'test',
      logger: silentLogger(),
      handlers: {
        ok: async (job) => void done.push(job.payload),
        bad: async () => {
          throw new Error('handler broke');
        },
      },
    });
    expect(await runner.runOnce()).toEqual({ ran: 4, failed: 1 });
    expect(done).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }, { n: 3 }]));
    expect(await jobs.get(bad.id)).toMatchObject({ status: 'failed', lastError: 'handler broke' });
    expect(await jobs.counts()).toEqual({ queued: 1, running: 0, done: 3, failed: 1 });
  });

  it('start() works through the queue with several slots and stop() waits for running jobs', async () => {
    for (let i = 0; i < 12; i++) await jobs.enqueue('work', { i });
    let finished = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const runner = createJobRunner({
      jobs,
      workerId: 'bg',
      logger: silentLogger(),
      pollMs: 5,
      concurrency: 3,
      handlers: {
        work: async (job) => {
          if ((job.payload as { i: number }).i === 11) await gate;
          finished++;
        },
      },
    });
    runner.start();
    while ((await jobs.counts()).done < 11) await new Promise((r) => setTimeout(r, 5));
    const stopping = runner.stop();
    release();
    await stopping;
    expect(finished).toBe(12);
    expect(await jobs.counts()).toEqual({ queued: 0, running: 0, done: 12, failed: 0 });
  });
});
