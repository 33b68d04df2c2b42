/**
 * The recommend module's tables in the state store: versioned model artefacts, "not interested"
 * feedback, per-shopper impressions (so the same items are not shown again and again), aggregate
 * exposure per item and day (fairness audit, no subject ids) and the shop's pin/boost/bury rules.
 */
import { CompiledQuery, sql, type Kysely } from 'kysely';
import {
  columnTypes,
  stateDialectOf,
  tablesOf,
  type Migration,
  type StateStore,
} from '../../storage/index.ts';

export type RecommendTables = {
  recommend_models: { version: number; created_at: number; stats: string; artefact: Uint8Array };
  recommend_feedback: { subject_id: string; kind: string; value: string; created_at: number };
  recommend_impressions: { subject_id: string; item_id: string; shown: number; last_at: number };
  recommend_exposure: { day: string; item_id: string; shown: number };
  recommend_rules: {
    id: string;
    kind: string;
    item_id: string;
    surface: string | null;
    factor: number;
    created_at: number;
  };
};

export function recommendMigrations(): Record<string, Migration> {
  return {
    'recommend-0001-tables': {
      async up(db: Kysely<unknown>) {
        const t = columnTypes(stateDialectOf(db));
        await db.schema
          .createTable('recommend_models')
          .addColumn('version', 'integer', (c) => c.primaryKey())
          .addColumn('created_at', t.ts, (c) => c.notNull())
          .addColumn('stats', t.json, (c) => c.notNull())
          .addColumn('artefact', t.blob, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('recommend_feedback')
          .addColumn('subject_id', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('created_at', t.ts, (c) => c.notNull())
          .addPrimaryKeyConstraint('recommend_feedback_pk', ['subject_id', 'kind', 'value'])
          .execute();
        await db.schema
          .createTable('recommend_impressions')
          .addColumn('subject_id', 'text', (c) => c.notNull())
          .addColumn('item_id', 'text', (c) => c.notNull())
          .addColumn('shown', 'integer', (c) => c.notNull())
          .addColumn('last_at', t.ts, (c) => c.notNull())
          .addPrimaryKeyConstraint('recommend_impressions_pk', ['subject_id', 'item_id'])
          .execute();
        await db.schema
          .createTable('recommend_exposure')
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('item_id', 'text', (c) => c.notNull())
          .addColumn('shown', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('recommend_exposure_pk', ['day', 'item_id'])
          .execute();
        await db.schema
          .createTable('recommend_rules')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('item_id', 'text', (c) => c.notNull())
          .addColumn('surface', 'text')
          .addColumn('factor', t.real, (c) => c.notNull())
          .addColumn('created_at', t.ts, (c) => c.notNull())
          .execute();
      },
    },
  };
}

export type RecommendStore = ReturnType<typeof createRecommendStore>;

export function createRecommendStore(state: StateStore) {
  const db = tablesOf<RecommendTables>(state);

  /**
   * Impression writes, a stream of small upserts every second: where the store offers it (SQLite), on its
   * background writer, so they never hold the serving thread (each slice commits on its own, without the
   * fsync: decision 0012); elsewhere (PostgreSQL, an asynchronous client) one after the other.
   */
  async function writeInBackground(writes: readonly CompiledQuery[]): Promise<void> {
    if (state.backgroundWrites) return state.backgroundWrites.run(writes);
    for (const write of writes) await state.db.executeQuery(write);
  }
  return {
    async saveModel(artefact: Uint8Array, stats: unknown, now: number, keep = 3): Promise<number> {
      return state.transaction(async (trx) => {
        const t = trx as Kysely<RecommendTables>;
        const last = await t
          .selectFrom('recommend_models')
          .select(sql<number>`max(version)`.as('v'))
          .executeTakeFirst();
        const version = Number(last?.v ?? 0) + 1;
        await t
          .insertInto('recommend_models')
          .values({ version, created_at: now, stats: JSON.stringify(stats), artefact })
          .execute();
        await t
          .deleteFrom('recommend_models')
          .where('version', '<=', version - keep)
          .execute();
        return version;
      });
    },
    async latestVersion(): Promise<number> {
      const r = await db
        .selectFrom('recommend_models')
        .select(sql<number>`max(version)`.as('v'))
        .executeTakeFirst();
      return Number(r?.v ?? 0);
    },
    async loadModel(version: number): Promise<Uint8Array | null> {
      const r = await db
        .selectFrom('recommend_models')
        .select('artefact')
        .where('version', '=', version)
        .executeTakeFirst();
      return r ? new Uint8Array(r.artefact) : null;
    },
    /** Older versions may hold an erased shopper's sessions; erasure keeps only the fresh one. */
    async deleteModelsBefore(version: number): Promise<number> {
      const r = await db.deleteFrom('recommend_models').where('version', '<', version).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    async addFeedback(
      subjectId: string,
      kind: 'item' | 'category',
      value: string,
      now: number,
    ): Promise<void> {
      await db
        .insertInto('recommend_feedback')
        .values({ subject_id: subjectId, kind, value, created_at: now })
        .onConflict((oc) => oc.columns(['subject_id', 'kind', 'value']).doUpdateSet({ created_at: now }))
        .execute();
    },
    async feedbackOf(subjectIds: readonly string[]) {
      if (subjectIds.length === 0) return [];
      return db.selectFrom('recommend_feedback').selectAll().where('subject_id', 'in', subjectIds).execute();
    },
    /** Feedback given at or after `fromMs`, oldest first (the serving caches tail it). */
    async feedbackSince(fromMs: number, limit: number) {
      return db
        .selectFrom('recommend_feedback')
        .selectAll()
        .where('created_at', '>=', fromMs)
        .orderBy('created_at')
        .limit(limit)
        .execute();
    },
    async latestFeedbackAt(): Promise<number> {
      const r = await db
        .selectFrom('recommend_feedback')
        .select(sql<number>`max(created_at)`.as('m'))
        .executeTakeFirst();
      return Number(r?.m ?? 0);
    },
    async impressionsOf(subjectIds: readonly string[]) {
      if (subjectIds.length === 0) return [];
      return db
        .selectFrom('recommend_impressions')
        .selectAll()
        .where('subject_id', 'in', subjectIds)
        .execute();
    },
    /**
     * Writes a batch of lists shown, per subject (null: non-personalised shoppers), as upserts of at most
     * 200 rows, each its own transaction (a short hold of SQLite's write lock), off the serving thread (see
     * `writeInBackground`). Counters only add up, so a batch cut short (a crash, a failed write) leaves
     * counts short by what it did not write, as the in-memory buffer lost in a crash does; never counted twice.
     */
    async recordImpressions(
      batch: ReadonlyMap<string | null, readonly (readonly string[])[]>,
      now: number,
    ): Promise<void> {
      const day = new Date(now).toISOString().slice(0, 10);
      const perSubject: { subject_id: string; item_id: string; shown: number; last_at: number }[] = [];
      const exposure = new Map<string, number>();
      // In key order: a slice then touches a few neighbouring pages of the key's index, not 200 scattered
      // ones, so each commit writes less to the log.
      const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
      const subjects = [...batch.keys()].sort((a, b) => byKey(a ?? '', b ?? ''));
      for (const subjectId of subjects) {
        const shown = new Map<string, number>();
        for (const list of batch.get(subjectId)!)
          for (const item of list) shown.set(item, (shown.get(item) ?? 0) + 1);
        for (const [item_id, n] of [...shown].sort((a, b) => byKey(a[0], b[0]))) {
          exposure.set(item_id, (exposure.get(item_id) ?? 0) + n);
          if (subjectId !== null) perSubject.push({ subject_id: subjectId, item_id, shown: n, last_at: now });
        }
      }
      if (exposure.size === 0) return;
      const exposed = [...exposure].map(([item_id, shown]) => ({ day, item_id, shown }));
      // Hand-built multi-row upserts: this runs on the serving thread every second, and building the
      // same statement through the query builder costs several times more CPU per row.
      const dialect = state.dialect;
      const upsert = (table: string, cols: string[], conflict: string, update: string, rows: unknown[][]) => {
        const params: unknown[] = [];
        const tuples = rows.map((r) => {
          const marks = r.map((v) => {
            params.push(v);
            return dialect === 'sqlite' ? '?' : `$${params.length}`;
          });
          return `(${marks.join(', ')})`;
        });
        return CompiledQuery.raw(
          `insert into ${table} (${cols.join(', ')}) values ${tuples.join(', ')} on conflict (${conflict}) do update set ${update}`,
          params,
        );
      };
      const writes: CompiledQuery[] = [];
      for (let i = 0; i < perSubject.length; i += 200)
        writes.push(
          upsert(
            'recommend_impressions',
            ['subject_id', 'item_id', 'shown', 'last_at'],
            'subject_id, item_id',
            'shown = recommend_impressions.shown + excluded.shown, last_at = excluded.last_at',
            perSubject.slice(i, i + 200).map((r) => [r.subject_id, r.item_id, r.shown, r.last_at]),
          ),
        );
      for (let i = 0; i < exposed.length; i += 200)
        writes.push(
          upsert(
            'recommend_exposure',
            ['day', 'item_id', 'shown'],
            'day, item_id',
            'shown = recommend_exposure.shown + excluded.shown',
            exposed.slice(i, i + 200).map((r) => [r.day, r.item_id, r.shown]),
          ),
        );
      await writeInBackground(writes);
    },
    async exposureSince(day: string) {
      return db
        .selectFrom('recommend_exposure')
        .select(['item_id', sql<number>`sum(shown)`.as('shown')])
        .where('day', '>=', day)
        .groupBy('item_id')
        .execute();
    },
    async rules() {
      return db.selectFrom('recommend_rules').selectAll().orderBy('created_at').execute();
    },
    async putRule(rule: RecommendTables['recommend_rules']): Promise<void> {
      await db
        .insertInto('recommend_rules')
        .values(rule)
        .onConflict((oc) => oc.column('id').doUpdateSet(rule))
        .execute();
    },
    async deleteRule(id: string): Promise<boolean> {
      const r = await db.deleteFrom('recommend_rules').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async exportSubject(subjectIds: readonly string[]) {
      return {
        feedback: await this.feedbackOf(subjectIds),
        impressions: await this.impressionsOf(subjectIds),
      };
    },
    async eraseSubject(subjectIds: readonly string[]): Promise<number> {
      if (subjectIds.length === 0) return 0;
      const a = await db
        .deleteFrom('recommend_feedback')
        .where('subject_id', 'in', subjectIds)
        .executeTakeFirst();
      const b = await db
        .deleteFrom('recommend_impressions')
        .where('subject_id', 'in', subjectIds)
        .executeTakeFirst();
      return Number(a.numDeletedRows) + Number(b.numDeletedRows);
    },
  };
}
