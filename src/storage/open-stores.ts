/**
 * Opens the stores a process needs from its configuration: SQLite + DuckDB files in the data directory by
 * default, PostgreSQL when `stateUrl` / `eventsUrl` are postgres:// URLs.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { systemClock, type Clock } from '../kernel/clock.ts';
import type { RuntimeConfig } from '../kernel/config.ts';
import { AppError } from '../kernel/errors.ts';
import { openDuckDbEventStore } from './adapters/duckdb/duckdb.event-store.ts';
import { openPostgresEventStore } from './adapters/postgres/postgres.event-store.ts';
import { openPostgresStateStore } from './adapters/postgres/postgres.state-store.ts';
import { openSqliteStateStore } from './adapters/sqlite/sqlite.state-store.ts';
import { createNatsStream, natsOptionsFromUrl } from './adapters/nats/nats.stream.ts';
import { createJobs, type JobsOptions } from './jobs/jobs.ts';
import type { EventStore, StateStore, Stores, Stream } from './ports.ts';

export type OpenStoresOptions = {
  clock?: Clock;
  jobs?: JobsOptions;
  /** PostgreSQL schema for both stores (tests isolate themselves with one). */
  pgSchema?: string;
};

export const STATE_FILE = 'state.sqlite';
export const EVENTS_FILE = 'events.duckdb';

function isPostgresUrl(url: string, setting: string): boolean {
  if (/^postgres(ql)?:\/\//i.test(url)) return true;
  throw new AppError(
    'config_invalid',
    `${setting} must be a postgres:// URL (got a ${url.split(':')[0] ?? 'malformed'} URL); leave it unset for the embedded store.`,
  );
}

export async function openStores(config: RuntimeConfig, options: OpenStoresOptions = {}): Promise<Stores> {
  const dataDir = path.resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const pgSchema = options.pgSchema ?? config.pgSchema;
  const schema = pgSchema ? { schema: pgSchema } : {};

  const state: StateStore =
    config.stateUrl && isPostgresUrl(config.stateUrl, 'stateUrl (CANDOR_STATE_URL)')
      ? await openPostgresStateStore({ url: config.stateUrl, ...schema })
      : await openSqliteStateStore({ file: path.join(dataDir, STATE_FILE) });

  let events: EventStore;
  try {
    events =
      config.eventsUrl && isPostgresUrl(config.eventsUrl, 'eventsUrl (CANDOR_EVENTS_URL)')
        ? await openPostgresEventStore({ url: config.eventsUrl, ...schema })
        : await openDuckDbEventStore({ file: path.join(dataDir, EVENTS_FILE) });
  } catch (error) {
    await state.close();
    throw error;
  }

  // Server mode: with a stream URL, ingestion goes through NATS JetStream (src/server/roles.ts).
  let stream: Stream | undefined;
  if (config.streamUrl) {
    try {
      stream = await createNatsStream({
        ...natsOptionsFromUrl(config.streamUrl),
        name: `candor-${config.role}`,
      });
    } catch (error) {
      await Promise.allSettled([events.close(), state.close()]);
      throw error;
    }
  }

  const jobs = createJobs(state, options.clock ?? systemClock, options.jobs ?? {});
  let closing: Promise<void> | null = null;
  return {
    state,
    events,
    jobs,
    ...(stream ? { stream } : {}),
    close() {
      closing ??= (async () => {
        // The stream first: its consumers write to the stores.
        await stream?.close().catch(() => undefined);
        return Promise.allSettled([events.close(), state.close()]);
      })().then((results) => {
        const failed = results.find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
      });
      return closing;
    },
  };
}
