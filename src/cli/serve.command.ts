/** `candor serve`: HTTP, jobs and the embedded stores in one process (or one role in server mode). */
import type { Command } from 'commander';
import {
  createCandor,
  isEmbedded,
  lowerBackgroundThreads,
  planRole,
  startAdminListener,
  startServer,
  type AdminListener,
} from '../server/index.ts';
import { createAdminRunner } from './admin-client.ts';
import { DEMO_DEFAULTS } from '../flows/demo/index.ts';
import { loadRuntimeConfig } from './cli-config.ts';
import { SEGMENTS_REFRESH_JOB } from '../modules/marketing/index.ts';
import { PROFILES_REFRESH_JOB } from '../modules/profiles/index.ts';
import { RECOMMEND_TRAIN_JOB } from '../modules/recommend/index.ts';
import { demoSummaryLine, isEmptyShop, loadDemoInto } from './demo.command.ts';

/** Jobs that derive data from events (profiles first: recommendations and segments read its traits). */
const DERIVED_DATA_JOBS = [PROFILES_REFRESH_JOB, RECOMMEND_TRAIN_JOB, SEGMENTS_REFRESH_JOB] as const;
import { cliLogger, globals, integer, type Io } from './program.ts';

type ServeOptions = { port?: number; host?: string; demo?: boolean; role?: string };

export function serveCommand(program: Command, io: Io): void {
  program
    .command('serve')
    .description('Run Candor: the API, the dashboard and the background jobs.')
    .option('--port <n>', 'port to listen on (0 picks a free one)', integer('--port', 0, 65535))
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--demo', 'on first start with an empty data directory, generate and load a demo shop')
    .option('--role <role>', 'api | worker | all (server mode runs roles in separate processes)')
    .action(async (opts: ServeOptions, cmd: Command) => {
      const g = globals(cmd);
      const overrides: Record<string, unknown> = {};
      if (opts.port !== undefined) overrides.port = opts.port;
      if (opts.host !== undefined) overrides.host = opts.host;
      if (opts.role !== undefined) overrides.role = opts.role;
      const config = loadRuntimeConfig(g, overrides, io.say);
      const logger = cliLogger(config);
      const candor = await createCandor(config, { logger });
      // From now on this process owns the data directory: other commands on it run through this one.
      let admin: AdminListener | undefined;
      const closeAll = async () => {
        await admin?.close();
        await candor.close();
      };
      if (isEmbedded(config)) {
        try {
          admin = await startAdminListener(candor, createAdminRunner(candor));
        } catch (err) {
          await candor.close();
          throw err;
        }
      }

      if (opts.demo && config.role !== 'api') {
        try {
          if (await isEmptyShop(candor)) {
            io.say('Empty data directory: generating the demo shop (first start only).');
            const t0 = performance.now();
            const s = await loadDemoInto(candor, { ...DEMO_DEFAULTS }, io);
            io.say(demoSummaryLine(s, { ...DEMO_DEFAULTS }, performance.now() - t0));
            // Derive profiles, the recommendation model and segments from the loaded history now, rather
            // than at their next scheduled run hours later.
            // The demo's history is dated in the past: profiles are derived from all of it.
            for (const kind of DERIVED_DATA_JOBS)
              await candor.stores.jobs.enqueue(kind, kind === PROFILES_REFRESH_JOB ? { sinceTs: 0 } : {}, {
                uniqueKey: `${kind}:after-demo`,
              });
          }
        } catch (err) {
          await closeAll();
          throw err;
        }
      }

      const plan = planRole(config);
      if (!plan.http) {
        io.say(
          plan.consumeStream
            ? 'Candor worker is running (stream consumer and jobs, no HTTP). Stop it with Ctrl+C.'
            : 'Candor worker is running (jobs only, no HTTP). Stop it with Ctrl+C.',
        );
        if (g.json) io.out(JSON.stringify({ role: plan.role, pid: process.pid }));
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        await closeAll();
        return;
      }

      let running;
      try {
        running = await startServer(candor, {
          handleSignals: true,
          print: (line) => (g.json ? io.say(line) : io.out(line)),
          ...(admin ? { admin } : {}),
        });
      } catch (err) {
        await closeAll();
        throw err;
      }
      // Only a process that answers requests has a thread to put first; a worker's threads are all background.
      const priority = lowerBackgroundThreads({ nice: config.backgroundThreadNice });
      if (g.json) io.out(JSON.stringify({ url: running.url }));
      await running.closed;
      priority.stop();
    });
}
