/**
 * Issue 12, "jobs claimed with leases so exactly one worker runs a scheduled job": job runners as the
 * worker processes run them, each on its own PostgreSQL connection pool, against one jobs table. A
 * recurring job runs once per period however many workers tick and poll; a worker that dies holding a job
 * (its lease never renewed, never completed) loses it when the lease ends, and another worker runs it once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/kernel/logger.ts';
import {
  createJobRunner,
  createJobs,
  jobsMigrations,
  openPostgresStateStore,
  type StateStore,
} from '../../src/storage/index.ts';
import { createTestPgSchema, requirePgUrl, type TestPgSchema } from '../../src/storage/testing.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let schema: TestPgSchema;
const stores: StateStore[] = [];

async function worker(): Promise<StateStore> {
  const store = await openPostgresStateStore({ url: requirePgUrl(), schema: schema.schema });
  await store.migrate(jobsMigrations);
  stores.push(store);
  return store;
}

beforeEach(async () => {
  schema = await createTestPgSchema(requirePgUrl());
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await schema.drop();
});

describe('job leases across worker processes', { timeout: 60_000 }, () => {
  it('runs a recurring job once per period with three workers ticking and polling', async () => {
    const PERIOD = 300;
    const RUN_MS = 3_000;
    const runs: { jobId: string; worker: string }[] = [];
    const runners = [];
    for (const name of ['w1', 'w2', 'w3']) {
      const jobs = createJobs(await worker());
      await jobs.schedule('heartbeat', 'heartbeat', PERIOD);
      runners.push(
        createJobRunner({
          jobs,
          workerId: name,
          logger: silentLogger(),
          pollMs: 20,
          leaseMs: 10_000,
          concurrency: 2,
          handlers: {
            heartbeat: async (job) => {
              runs.push({ jobId: job.id, worker: name });
              await sleep(40);
            },
          },
        }),
      );
    }
    const started = Date.now();
    for (const r of runners) r.start();
    await sleep(RUN_MS);
    for (const r of runners) await r.stop();
    const elapsed = Date.now() - started;

    const perJob = new Map<string, number>();
    for (const r of runs) perJob.set(r.jobId, (perJob.get(r.jobId) ?? 0) + 1);
    expect([...perJob.values()].filter((n) => n !== 1)).toEqual([]);
    // One run per period that began while the workers ran (the first is due at once), never more.
    const periods = Math.floor(elapsed / PERIOD) + 1;
    expect(runs.length).toBeLessThanOrEqual(periods);
    expect(runs.length).toBeGreaterThanOrEqual(Math.floor(periods * 0.6));
    // Each run belongs to its own period: the jobs' period boundaries (in their unique keys) are distinct
    // points of the schedule's grid, a period or more apart.
    const keys = await stores[0]!.db
      .selectFrom('jobs')
      .select(['id', 'unique_key'])
      .where('id', 'in', [...perJob.keys()])
      .execute();
    const boundaries = keys.map((k) => Number(String(k.unique_key).split(':').at(-1))).sort((a, b) => a - b);
    expect(boundaries).toHaveLength(runs.length);
    expect(boundaries.slice(1).filter((t, i) => t - boundaries[i]! < PERIOD)).toEqual([]);
    const counts = await createJobs(stores[0]!).counts();
    expect(counts.failed).toBe(0);
    expect(counts.running).toBe(0);
  });

  it('a worker that dies holding a job loses it when the lease ends; another runs it exactly once', async () => {
    const LEASE = 800;
    const dying = createJobs(await worker());
    const { id } = await dying.enqueue('invoice', { n: 1 });
    const claimed = await dying.claim('w-dead', ['invoice'], LEASE);
    expect(claimed?.id).toBe(id);
    // The process is gone: its connections close, it never completes, it never renews.
    const dead = stores.shift()!;
    await dead.close();

    const runs: string[] = [];
    const jobs = createJobs(await worker());
    const runner = createJobRunner({
      jobs,
      workerId: 'w-alive',
      logger: silentLogger(),
      pollMs: 25,
      leaseMs: LEASE,
      handlers: { invoice: async (job) => void runs.push(job.id) },
    });
    const t0 = Date.now();
    runner.start();
    while (runs.length === 0 && Date.now() - t0 < 10_000) await sleep(25);
    const tookMs = Date.now() - t0;
    await sleep(LEASE * 2);
    await runner.stop();
    expect(runs).toEqual([id]);
    // Not before the dead worker's lease ran out.
    expect(tookMs).toBeGreaterThanOrEqual(LEASE * 0.5);
    expect(await jobs.get(id)).toMatchObject({ status: 'done', attempts: 2 });
  });
});
