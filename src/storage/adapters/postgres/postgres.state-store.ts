/**
 * The server-mode state store: PostgreSQL through a `pg` pool and Kysely's PostgreSQL dialect. Migrations
 * take Kysely's advisory lock, so several processes starting together apply each migration once. Change
 * notices (LISTEN/NOTIFY, postgres.notices.ts) let processes keep their caches in step.
 */
import { Kysely, PostgresDialect, sql } from 'kysely';
import { runMigrations } from '../../migrate.ts';
import type { StateStore } from '../../ports.ts';
import { createPostgresNotices } from './postgres.notices.ts';
import { openPool } from './postgres.pool.ts';

export type PostgresStateStoreOptions = { url: string; schema?: string; maxConnections?: number };

export async function openPostgresStateStore(options: PostgresStateStoreOptions): Promise<StateStore> {
  const pool = await openPool({
    url: options.url,
    ...(options.schema ? { schema: options.schema } : {}),
    ...(options.maxConnections ? { max: options.maxConnections } : {}),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each module types its own tables
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  // Several processes share this store; their in-memory caches learn of each other's writes through these.
  const notices = createPostgresNotices({
    url: options.url,
    ...(options.schema ? { schema: options.schema } : {}),
  });
  let closed = false;
  return {
    dialect: 'postgres',
    db,
    transaction: (fn) => db.transaction().execute(fn),
    migrate: (migrations) =>
      runMigrations({ db, migrations, ...(options.schema ? { schema: options.schema } : {}) }),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    notices: {
      notify: (trx, channel, payload) => notices.notify(trx, channel, payload),
      listen: (channel, handlers) => notices.listen(channel, handlers),
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await notices.close();
      await db.destroy();
    },
  };
}
