/**
 * The composition root: config → stores → modules → migrations → routes + job runner. The only place
 * that wires modules together; everything it opens, `close()` closes in reverse order.
 */
import { hostname } from 'node:os';
import type { Migration } from 'kysely/migration';
import { systemClock, type Clock } from '../kernel/clock.ts';
import type { RuntimeConfig } from '../kernel/config.ts';
import { createKeyRing, createPseudonymizer } from '../kernel/crypto.ts';
import { AppError } from '../kernel/errors.ts';
import type { Guards, Router } from '../kernel/http.ts';
import { createLogger, type Logger } from '../kernel/logger.ts';
import type { CandorModule, JobHandler } from '../kernel/module.ts';
import { createJobRunner, jobsMigrations, openStores, type OpenStoresOptions } from '../storage/index.ts';
import type { Job, Stores } from '../storage/ports.ts';
import { createApp } from './app.ts';
import type { ModuleContext } from './context.ts';
import { createDenyAllGuards } from './guards.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { watchRuntime } from './runtime-metrics.ts';
import { createModules } from './modules.ts';
import { planRole } from './roles.ts';
import { mountWeb } from './web.ts';

export type CandorOptions = {
  logger?: Logger;
  clock?: Clock;
  /** Replaces the auth module's guards (tests of guarded routes). */
  guards?: Guards;
  /** Replaces the module list (tests mounting a module of their own). */
  modules?: (context: ModuleContext) => CandorModule[];
  /** Run background jobs in this process. Default: unless the role is `api`. */
  jobs?: boolean;
  /** Passed to openStores (a PostgreSQL schema for isolated tests). */
  storeOptions?: OpenStoresOptions;
  /** Job runner tuning (tests poll faster). */
  jobRunner?: { pollMs?: number; leaseMs?: number; concurrency?: number };
};

export type Candor = {
  readonly app: Router;
  readonly stores: Stores;
  readonly modules: readonly CandorModule[];
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly config: RuntimeConfig;
  /** Migrations this start applied (empty when the stores were already up to date). */
  readonly migrations: { applied: string[] };
  /** Stops the job runner, stops every module (flushing buffers), closes the stores. Idempotent. */
  close(): Promise<void>;
};

/** Every migration of every module, checked for name collisions (names are global and ordered). */
function collectMigrations(modules: readonly CandorModule[]): Record<string, Migration> {
  const all: Record<string, Migration> = { ...jobsMigrations };
  for (const m of modules) {
    for (const [name, migration] of Object.entries(m.migrations ?? {})) {
      if (name in all) {
        throw new AppError(
          'config_invalid',
          `Migration name ${name} (module ${m.name}) is used twice; names must be unique.`,
        );
      }
      all[name] = migration;
    }
  }
  return all;
}

/** Every module's job handlers, adapted from the module shape (payload, context) to the runner's (job). */
function collectHandlers(modules: readonly CandorModule[]): Record<string, (job: Job) => Promise<void>> {
  const handlers: Record<string, (job: Job) => Promise<void>> = {};
  for (const m of modules) {
    for (const [kind, handler] of Object.entries<JobHandler>(m.jobs ?? {})) {
      if (kind in handlers)
        throw new AppError('config_invalid', `Job kind ${kind} (module ${m.name}) is handled twice.`);
      handlers[kind] = (job) => handler(job.payload, { jobId: job.id, attempt: job.attempts });
    }
  }
  return handlers;
}

/** resolveSecrets guarantees these; a config built another way fails here, loudly, before serving. */
function secret(config: RuntimeConfig, name: 'kek' | 'pseudonymKey'): string {
  const value = config.secrets[name];
  if (!value)
    throw new AppError(
      'missing_secret',
      `The ${name} secret is missing; load config through resolveSecrets.`,
    );
  return value;
}

export async function createCandor(config: RuntimeConfig, options: CandorOptions = {}): Promise<Candor> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  // Refuses a role split that cannot work (separate processes on embedded files) before opening anything.
  const plan = planRole(config);
  const metrics = createMetrics();
  metrics.gauge('process_resident_memory_bytes', 'Resident set size of the process.', () =>
    process.memoryUsage.rss(),
  );

  const opened = await openStores(config, { clock, ...options.storeOptions });
  // Event-loop delay and GC pauses, from here until close.
  const runtime = watchRuntime(metrics);
  // Modules see instrumented stores, so every storage call shows up in /metrics with its latency.
  const stores: Stores = {
    state: metrics.instrument('state', opened.state),
    events: metrics.instrument('events', opened.events),
    jobs: metrics.instrument('jobs', opened.jobs),
    ...(opened.stream ? { stream: metrics.instrument('stream', opened.stream) } : {}),
    close: () => opened.close(),
  };

  const stopped: CandorModule[] = [];
  let runner: { stop(): Promise<void> } | undefined;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      try {
        await runner?.stop();
      } catch (err) {
        logger.error({ err }, 'job runner did not stop cleanly');
      }
      for (const m of [...stopped].reverse()) {
        try {
          await m.stop?.();
        } catch (err) {
          logger.error({ err, module: m.name }, 'module did not stop cleanly');
        }
      }
      runtime.stop();
      await opened.close();
    })());

  try {
    const context: ModuleContext = {
      config,
      stores,
      logger,
      clock,
      keyRing: createKeyRing(secret(config, 'kek'), config.secrets.previousKeks),
      pseudonymize: createPseudonymizer(secret(config, 'pseudonymKey')),
      // A custom module list has no auth module: guarded routes then answer 401, never open by accident.
      guards: options.guards ?? (options.modules ? createDenyAllGuards() : undefined),
    };
    const modules = (options.modules ?? createModules)(context);
    const names = new Set<string>();
    for (const m of modules) {
      if (names.has(m.name)) throw new AppError('config_invalid', `Two modules are named ${m.name}.`);
      names.add(m.name);
    }

    const migrations = await stores.state.migrate(collectMigrations(modules));
    if (migrations.applied.length > 0) logger.info({ applied: migrations.applied }, 'migrations applied');

    const app = createApp({ config, logger, stores, modules, metrics });
    mountWeb(app);

    for (const m of modules) {
      await m.start?.();
      stopped.push(m);
    }

    const runJobs = options.jobs ?? plan.jobs;
    if (runJobs) {
      for (const m of modules) {
        for (const s of m.schedules ?? []) await stores.jobs.schedule(s.name, s.kind, s.everyMs, s.payload);
      }
      const jobRunner = createJobRunner({
        jobs: stores.jobs,
        handlers: collectHandlers(modules),
        logger: logger.child({ component: 'jobs' }),
        workerId: `${hostname()}:${process.pid}`,
        pollMs: options.jobRunner?.pollMs ?? 1_000,
        leaseMs: options.jobRunner?.leaseMs ?? 60_000,
        concurrency: options.jobRunner?.concurrency ?? 2,
      });
      jobRunner.start();
      runner = jobRunner;
    }

    return { app, stores, modules, logger, metrics, config, migrations, close };
  } catch (err) {
    await close();
    throw err;
  }
}
