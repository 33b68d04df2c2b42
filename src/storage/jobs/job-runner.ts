/**
 * Runs jobs from the `Jobs` port: ticks schedules, claims due jobs of the kinds it has handlers for, runs
 * them with bounded concurrency, and records success or failure. `stop()` waits for running jobs.
 */
import type { Logger } from 'pino';
import type { Job, Jobs } from '../ports.ts';

export type JobHandler = (job: Job) => Promise<void>;

export type JobRunnerOptions = {
  jobs: Jobs;
  handlers: Record<string, JobHandler>;
  logger: Logger;
  workerId: string;
  /** Pause between polls when there is no work, in ms. */
  pollMs?: number;
  /** How long a claimed job is ours; it must exceed the longest job, or another worker may take it over. */
  leaseMs?: number;
  concurrency?: number;
};

export type JobRunner = {
  start(): void;
  /** Stops claiming and waits for running jobs to finish. */
  stop(): Promise<void>;
  /** Ticks schedules and runs every due job, one at a time, until none is left (tests, CLI commands). */
  runOnce(): Promise<{ ran: number; failed: number }>;
};

export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { jobs, handlers, logger, workerId } = options;
  const pollMs = options.pollMs ?? 1_000;
  const leaseMs = options.leaseMs ?? 5 * 60_000;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const kinds = Object.keys(handlers);
  let running = false;
  let loops: Promise<void>[] = [];
  const sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  /** Claims and runs one job; returns what happened, or null when nothing was due. */
  async function runOne(): Promise<'done' | 'failed' | null> {
    const job = await jobs.claim(workerId, kinds, leaseMs);
    if (!job) return null;
    const handler = handlers[job.kind];
    try {
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      await handler(job);
      await jobs.complete(job.id, workerId);
      return 'done';
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      try {
        const r = await jobs.fail(job.id, workerId, message);
        logger.warn(
          { jobId: job.id, kind: job.kind, attempts: job.attempts, willRetry: r.willRetry, err: message },
          'job failed',
        );
      } catch (failError) {
        logger.error(
          { jobId: job.id, kind: job.kind, err: (failError as Error).message },
          'could not record job failure',
        );
      }
      return 'failed';
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          sleepers.delete(sleeper);
          resolve();
        }, ms),
        resolve,
      };
      sleepers.add(sleeper);
    });
  }

  async function loop(slot: number): Promise<void> {
    while (running) {
      let outcome: 'done' | 'failed' | null = null;
      try {
        if (slot === 0) await jobs.tickSchedules();
        outcome = await runOne();
      } catch (error) {
        logger.error(
          { err: (error as Error).message, workerId },
          'job runner could not reach the jobs table',
        );
      }
      if (outcome === null && running) await sleep(pollMs);
    }
  }

  return {
    start() {
      if (running || kinds.length === 0) return;
      running = true;
      loops = Array.from({ length: concurrency }, (_, slot) => loop(slot));
    },
    async stop() {
      running = false;
      for (const s of sleepers) {
        clearTimeout(s.timer);
        s.resolve();
      }
      sleepers.clear();
      await Promise.all(loops);
      loops = [];
    },
    async runOnce() {
      let ran = 0;
      let failed = 0;
      await jobs.tickSchedules();
      for (;;) {
        const outcome = await runOne();
        if (outcome === null) break;
        ran++;
        if (outcome === 'failed') failed++;
      }
      return { ran, failed };
    },
  };
}
