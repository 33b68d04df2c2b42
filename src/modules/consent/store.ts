/**
 * The consent module's tables. `consent_records` is the append-only ledger: rows are inserted, never
 * updated; the only delete is erasure of a subject. `consent_record_subjects` indexes each decision under
 * every subject pseudonym it applies to (customer and device), so a lookup by any linked id finds it.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { columnTypes, tablesOf } from '../../storage/index.ts';
import type { StateStore } from '../../storage/ports.ts';
import { mergeLedgers, type ConsentRecord } from './ledger.ts';
import type { ConsentMethod, Purpose } from './purposes.ts';
import type { StatRecord } from './stats.ts';

type Num = number | string | bigint;

export type ConsentRecordRow = {
  consent_id: string;
  subject_id: string;
  subject_ids: string;
  purposes: string;
  notice_version: string | null;
  notice_hash: string | null;
  method: string;
  locale: string | null;
  channel: string | null;
  decided_at: Num;
  supersedes: string | null;
};

export type ConsentRecordSubjectRow = { subject_id: string; consent_id: string; decided_at: Num };

export type ConsentNoticeRow = {
  version: string;
  texts: string;
  hashes: string;
  hash: string;
  published_at: Num;
};

export type ConsentTables = {
  consent_records: ConsentRecordRow;
  consent_record_subjects: ConsentRecordSubjectRow;
  consent_notices: ConsentNoticeRow;
};

export function consentMigrations(store: StateStore): Record<string, Migration> {
  const t = columnTypes(store.dialect);
  return {
    'consent-0001-ledger': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('consent_records')
          .ifNotExists()
          .addColumn('consent_id', t.text, (c) => c.primaryKey())
          .addColumn('subject_id', t.text, (c) => c.notNull())
          .addColumn('subject_ids', t.json, (c) => c.notNull())
          .addColumn('purposes', t.json, (c) => c.notNull())
          .addColumn('notice_version', t.text)
          .addColumn('notice_hash', t.text)
          .addColumn('method', t.text, (c) => c.notNull())
          .addColumn('locale', t.text)
          .addColumn('channel', t.text)
          .addColumn('decided_at', t.ts, (c) => c.notNull())
          .addColumn('supersedes', t.text)
          .execute();
        await db.schema
          .createTable('consent_record_subjects')
          .ifNotExists()
          .addColumn('subject_id', t.text, (c) => c.notNull())
          .addColumn('consent_id', t.text, (c) => c.notNull())
          .addColumn('decided_at', t.ts, (c) => c.notNull())
          .addPrimaryKeyConstraint('consent_record_subjects_pk', ['subject_id', 'consent_id'])
          .execute();
        await db.schema
          .createTable('consent_notices')
          .ifNotExists()
          .addColumn('version', t.text, (c) => c.primaryKey())
          .addColumn('texts', t.json, (c) => c.notNull())
          .addColumn('hashes', t.json, (c) => c.notNull())
          .addColumn('hash', t.text, (c) => c.notNull())
          .addColumn('published_at', t.ts, (c) => c.notNull())
          .execute();
      },
    },
  };
}

export type Notice = {
  version: string;
  texts: Record<string, string>;
  hashes: Record<string, string>;
  hash: string;
  publishedAt: number;
};

function toRecord(row: ConsentRecordRow): ConsentRecord {
  return {
    consentId: row.consent_id,
    subjectIds: JSON.parse(row.subject_ids) as string[],
    purposes: JSON.parse(row.purposes) as Partial<Record<Purpose, boolean>>,
    noticeVersion: row.notice_version,
    noticeHash: row.notice_hash,
    method: row.method as ConsentMethod,
    locale: row.locale,
    channel: row.channel,
    decidedAt: Number(row.decided_at),
    supersedes: row.supersedes,
  };
}

function toNotice(row: ConsentNoticeRow): Notice {
  return {
    version: row.version,
    texts: JSON.parse(row.texts) as Record<string, string>,
    hashes: JSON.parse(row.hashes) as Record<string, string>,
    hash: row.hash,
    publishedAt: Number(row.published_at),
  };
}

export type ConsentStore = ReturnType<typeof createConsentStore>;

/**
 * The first key of the per-subject advisory locks (the two-key form, a key space apart from one-key locks
 * such as the privacy budget's): "CNST".
 */
const SUBJECT_LOCK_SPACE = 0x434e5354;

export function createConsentStore(store: StateStore) {
  const db = () => tablesOf<ConsentTables>(store);

  async function insert(tx: Kysely<ConsentTables>, records: readonly ConsentRecord[]): Promise<void> {
    await tx
      .insertInto('consent_records')
      .values(
        records.map((r) => ({
          consent_id: r.consentId,
          subject_id: r.subjectIds[0]!,
          subject_ids: JSON.stringify(r.subjectIds),
          purposes: JSON.stringify(r.purposes),
          notice_version: r.noticeVersion,
          notice_hash: r.noticeHash,
          method: r.method,
          locale: r.locale,
          channel: r.channel,
          decided_at: r.decidedAt,
          supersedes: r.supersedes,
        })),
      )
      .execute();
    await tx
      .insertInto('consent_record_subjects')
      .values(
        records.flatMap((r) =>
          r.subjectIds.map((s) => ({ subject_id: s, consent_id: r.consentId, decided_at: r.decidedAt })),
        ),
      )
      .execute();
  }

  async function recordsIn(
    tx: Kysely<ConsentTables>,
    subjectIds: readonly string[],
  ): Promise<ConsentRecord[]> {
    if (subjectIds.length === 0) return [];
    const rows = await tx
      .selectFrom('consent_records')
      .selectAll('consent_records')
      .where(
        'consent_id',
        'in',
        tx
          .selectFrom('consent_record_subjects')
          .select('consent_id')
          .where('subject_id', 'in', [...subjectIds]),
      )
      .execute();
    return rows.map(toRecord);
  }

  return {
    /**
     * One decision placed after every decision already recorded for these subjects, by any process: the
     * subjects' ledger is read inside the transaction that appends, under a per-subject lock, and `build`
     * makes the record from it (its time and `supersedes`), or returns null to record nothing. Without the
     * lock, two processes deciding for one shopper at the same moment would both supersede the same
     * record and fork the ledger. PostgreSQL takes a transaction-scoped advisory lock per subject (in sorted
     * order, so two decisions over overlapping subjects cannot deadlock); SQLite's single writer is the lock.
     */
    async appendAfter(
      subjectIds: readonly string[],
      build: (ledger: readonly ConsentRecord[]) => ConsentRecord | null,
      /** Runs before the commit (change notices to other processes commit with the rows). */
      alsoInTransaction?: (trx: Kysely<unknown>) => Promise<void>,
    ): Promise<ConsentRecord | null> {
      const subjects = [...new Set(subjectIds)].sort();
      return store.transaction(async (trx) => {
        const tx = trx as Kysely<ConsentTables>;
        if (store.dialect === 'postgres') {
          for (const s of subjects) {
            await sql`select pg_advisory_xact_lock(${SUBJECT_LOCK_SPACE}::int, hashtext(${s}))`.execute(tx);
          }
        }
        const record = build(mergeLedgers([await recordsIn(tx, subjects)]));
        if (record === null) return null;
        await alsoInTransaction?.(trx);
        await insert(tx, [record]);
        return record;
      });
    },

    /** Every decision that applies to any of these subjects, in ledger order. */
    async recordsOf(subjectIds: readonly string[]): Promise<ConsentRecord[]> {
      return recordsIn(db(), subjectIds);
    },

    /**
     * Every decision made before `toMs`, in ledger order, with only the columns statistics read (no
     * locale, channel or notice). Rows are read in pages so the query never holds one huge result.
     */
    async *statRecordsBefore(toMs: number, pageSize = 5_000): AsyncGenerator<StatRecord> {
      let after: { at: number; id: string } | null = null;
      for (;;) {
        let q = db()
          .selectFrom('consent_records')
          .select(['consent_id', 'subject_id', 'purposes', 'method', 'decided_at', 'supersedes'])
          .where('decided_at', '<', toMs);
        if (after) {
          const { at, id } = after;
          q = q.where((eb) =>
            eb.or([
              eb('decided_at', '>', at),
              eb.and([eb('decided_at', '=', at), eb('consent_id', '>', id)]),
            ]),
          );
        }
        const rows = await q.orderBy('decided_at').orderBy('consent_id').limit(pageSize).execute();
        for (const r of rows)
          yield {
            consentId: r.consent_id,
            subjectId: r.subject_id,
            purposes: JSON.parse(r.purposes) as Partial<Record<Purpose, boolean>>,
            method: r.method,
            decidedAt: Number(r.decided_at),
            supersedes: r.supersedes,
          };
        if (rows.length < pageSize) return;
        const lastRow = rows.at(-1)!;
        after = { at: Number(lastRow.decided_at), id: lastRow.consent_id };
      }
    },

    async getNotice(version: string): Promise<Notice | null> {
      const row = await db()
        .selectFrom('consent_notices')
        .selectAll()
        .where('version', '=', version)
        .executeTakeFirst();
      return row ? toNotice(row) : null;
    },

    async currentNotice(): Promise<Notice | null> {
      const row = await db()
        .selectFrom('consent_notices')
        .selectAll()
        .orderBy('published_at', 'desc')
        .orderBy('version', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? toNotice(row) : null;
    },

    /** False when another process published the same version first (several processes starting together). */
    async insertNotice(n: Notice): Promise<boolean> {
      const r = await db()
        .insertInto('consent_notices')
        .values({
          version: n.version,
          texts: JSON.stringify(n.texts),
          hashes: JSON.stringify(n.hashes),
          hash: n.hash,
          published_at: n.publishedAt,
        })
        .onConflict((oc) => oc.column('version').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    /** Erasure: the one delete the ledger allows. Returns how many decisions went. */
    async eraseSubjects(
      subjectIds: readonly string[],
      alsoInTransaction?: (trx: Kysely<unknown>) => Promise<void>,
    ): Promise<number> {
      if (subjectIds.length === 0) return 0;
      return store.transaction(async (trx) => {
        const tx = trx as Kysely<ConsentTables>;
        await alsoInTransaction?.(trx);
        const ids = (
          await tx
            .selectFrom('consent_record_subjects')
            .select('consent_id')
            .where('subject_id', 'in', [...subjectIds])
            .execute()
        ).map((r) => r.consent_id);
        if (ids.length === 0) return 0;
        await tx.deleteFrom('consent_record_subjects').where('consent_id', 'in', ids).execute();
        const res = await tx.deleteFrom('consent_records').where('consent_id', 'in', ids).executeTakeFirst();
        return Number(res.numDeletedRows);
      });
    },
  };
}
