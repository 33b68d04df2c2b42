/**
 * Finds every column, in every store, whose name says it holds a subject id or personal data, and the ones
 * no registered holder (or explicit exemption) covers. The personal-data test runs this against a fully
 * migrated installation, so a new table holding shopper data cannot ship without export and erasure.
 */
import { sql, type Kysely } from 'kysely';
import type { EventStore, StateStore } from '../../storage/ports.ts';
import type { HolderRegistry, StoreName } from './holder.ts';

export type StoredColumn = { store: StoreName; table: string; column: string };

/** Column names that identify a shopper, directly or by pseudonym. */
const SUBJECT_COLUMN =
  /^(?:.*_)?(?:subject|subject_id|subject_ids|user_id|anonymous_id|customer_id|device_id|shopper_id)$/;
/** Column names that hold direct identifiers or other personal data. */
const PERSONAL_COLUMN =
  /(?:^|_)(?:email|phone|first_name|last_name|full_name|display_name|address|ip|ip_address|birth_date|date_of_birth)(?:_|$)/;

/** True when a column's name says it may hold a subject id or personal data. */
export function looksPersonal(column: string): boolean {
  const c = column.toLowerCase();
  return SUBJECT_COLUMN.test(c) || PERSONAL_COLUMN.test(c);
}

async function columnsOf(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- information-schema queries are untyped
  db: Kysely<any>,
  dialect: string,
): Promise<{ table_name: string; column_name: string }[]> {
  if (dialect === 'sqlite') {
    const r = await sql<{ table_name: string; column_name: string }>`
      select m.name as table_name, p.name as column_name
      from sqlite_master m join pragma_table_info(m.name) p
      where m.type = 'table' and m.name not like 'sqlite_%'`.execute(db);
    return r.rows;
  }
  if (dialect === 'duckdb') {
    const r = await sql<{ table_name: string; column_name: string }>`
      select table_name, column_name from information_schema.columns
      where table_schema = 'main'`.execute(db);
    return r.rows;
  }
  // PostgreSQL: a partition (events_p202601, …) holds its parent's rows and is covered by the parent.
  const r = await sql<{ table_name: string; column_name: string }>`
    select c.table_name, c.column_name
    from information_schema.columns c
    join pg_catalog.pg_namespace n on n.nspname = c.table_schema
    join pg_catalog.pg_class k on k.relnamespace = n.oid and k.relname = c.table_name
    where c.table_schema = current_schema() and not k.relispartition`.execute(db);
  return r.rows;
}

/** Where a PostgreSQL store lives; both stores may share one database and schema in server mode. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
async function locationOf(db: Kysely<any>): Promise<string> {
  const r = await sql<{ loc: string }>`select current_database() || '.' || current_schema() as loc`.execute(
    db,
  );
  return r.rows[0]?.loc ?? '';
}

/**
 * Every stored column, in both stores. When both stores are one PostgreSQL schema, each table is listed
 * once, under the store `ownerOf` names (the events store for the tables its holders describe), else state.
 */
export async function listStoredColumns(
  stores: { state: StateStore; events: EventStore },
  ownerOf: (table: string) => StoreName | undefined = (t) => (t === 'events' ? 'events' : undefined),
): Promise<StoredColumn[]> {
  const state = await columnsOf(stores.state.db, stores.state.dialect);
  if (
    stores.state.dialect === 'postgres' &&
    stores.events.dialect === 'postgres' &&
    (await locationOf(stores.state.db)) === (await locationOf(stores.events.db))
  ) {
    return state.map((r) => ({
      store: ownerOf(r.table_name) ?? ('state' as const),
      table: r.table_name,
      column: r.column_name,
    }));
  }
  const events = await columnsOf(stores.events.db, stores.events.dialect);
  return [
    ...state.map((r) => ({ store: 'state' as const, table: r.table_name, column: r.column_name })),
    ...events.map((r) => ({ store: 'events' as const, table: r.table_name, column: r.column_name })),
  ];
}

export type CoverageReport = {
  /** Columns that look personal and are covered by a holder. */
  covered: (StoredColumn & { holder: string })[];
  exempted: (StoredColumn & { reason: string })[];
  /** Columns that look personal and that no holder covers: each one is a defect. */
  uncovered: StoredColumn[];
  /** Tables a holder describes that do not exist (a stale description). */
  missingTables: { store: StoreName; table: string; holder: string }[];
};

/**
 * Checks the registry against the stores. A column is covered when a holder lists its table and names it
 * as a subject or personal column.
 */
export async function checkCoverage(
  registry: HolderRegistry,
  stores: { state: StateStore; events: EventStore },
): Promise<CoverageReport> {
  const coverage = registry.coverage();
  const eventTables = new Set(coverage.filter((t) => t.store === 'events').map((t) => t.table));
  const columns = await listStoredColumns(stores, (table) => (eventTables.has(table) ? 'events' : undefined));
  const tables = new Set(columns.map((c) => `${c.store}:${c.table}`));
  const exemptions = registry.exemptions();
  const report: CoverageReport = { covered: [], exempted: [], uncovered: [], missingTables: [] };
  for (const col of columns) {
    if (!looksPersonal(col.column)) continue;
    const holder = coverage.find(
      (t) =>
        t.store === col.store &&
        t.table === col.table &&
        (t.subjectColumns.includes(col.column) || (t.personalColumns ?? []).includes(col.column)),
    );
    if (holder) {
      report.covered.push({ ...col, holder: holder.holder });
      continue;
    }
    const exemption = exemptions.find(
      (e) =>
        e.store === col.store && e.table === col.table && (e.column === undefined || e.column === col.column),
    );
    if (exemption) report.exempted.push({ ...col, reason: exemption.reason });
    else report.uncovered.push(col);
  }
  for (const t of coverage) {
    if (!tables.has(`${t.store}:${t.table}`))
      report.missingTables.push({ store: t.store, table: t.table, holder: t.holder });
  }
  return report;
}
