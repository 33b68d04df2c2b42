/** The storage layer's public surface: ports, adapters, migrations, jobs and the stream. */
export type * from './ports.ts';
export { columnTypes, tablesOf, stateDialectOf, type ColumnTypes } from './column-types.ts';
export { EVENT_COLUMNS, eventFromRow } from './event-columns.ts';
export { runMigrations, MIGRATION_TABLE, MIGRATION_LOCK_TABLE } from './migrate.ts';
export { openSqliteStateStore, type SqliteStateStoreOptions } from './adapters/sqlite/sqlite.state-store.ts';
export {
  openPostgresStateStore,
  type PostgresStateStoreOptions,
} from './adapters/postgres/postgres.state-store.ts';
export { openDuckDbEventStore, type DuckDbEventStoreOptions } from './adapters/duckdb/duckdb.event-store.ts';
export {
  openPostgresEventStore,
  type PostgresEventStoreOptions,
} from './adapters/postgres/postgres.event-store.ts';
export { createMemoryStream, type MemoryStreamOptions } from './adapters/memory-stream/memory.stream.ts';
export { createNatsStream, natsOptionsFromUrl, type NatsStreamOptions } from './adapters/nats/nats.stream.ts';
export { createJobs, backoffDelay, type JobsOptions, type JobTables } from './jobs/jobs.ts';
export { jobsMigrations } from './jobs/jobs.migrations.ts';
export {
  createJobRunner,
  type JobHandler,
  type JobRunner,
  type JobRunnerOptions,
} from './jobs/job-runner.ts';
export { openStores, STATE_FILE, EVENTS_FILE, type OpenStoresOptions } from './open-stores.ts';
