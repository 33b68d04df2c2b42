/**
 * Versioned migrations for the state stores, through Kysely's Migrator. All modules share one migration
 * table, so a call that brings only one module's migrations must not be refused because other modules'
 * migrations are already recorded: names already executed are added back as no-ops.
 */
import { sql, type Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationResultSet } from 'kysely/migration';
import { AppError } from '../kernel/errors.ts';

export const MIGRATION_TABLE = 'candor_migrations';
export const MIGRATION_LOCK_TABLE = 'candor_migration_lock';

const NO_OP: Migration = { up: async () => {} };

export type RunMigrationsOptions = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see every module's tables
  db: Kysely<any>;
  migrations: Record<string, Migration>;
  /** PostgreSQL: the schema that holds the migration tables (the store's schema). */
  schema?: string;
};

export async function runMigrations(options: RunMigrationsOptions): Promise<{ applied: string[] }> {
  const { db, migrations, schema } = options;
  const table = schema ? sql.table(`${schema}.${MIGRATION_TABLE}`) : sql.table(MIGRATION_TABLE);
  const migrator = new Migrator({
    db,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(schema ? { migrationTableSchema: schema } : {}),
    allowUnorderedMigrations: true,
    provider: {
      // Runs after the migration lock is held, so the executed list is current.
      getMigrations: async () => {
        const executed = await sql<{ name: string }>`select name from ${table}`.execute(db);
        const all: Record<string, Migration> = {};
        for (const row of executed.rows) all[row.name] = NO_OP;
        return { ...all, ...migrations };
      },
    },
  });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error !== undefined) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = result.error instanceof Error ? result.error.message : JSON.stringify(result.error);
    throw new AppError(
      'store_error',
      `Migration ${failed ?? '(setup)'} failed: ${reason}. Nothing of this run was applied (it runs in one transaction); fix the cause and run \`candor migrate\` again.`,
      { cause: result.error },
    );
  }
  return {
    applied: (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName),
  };
}
