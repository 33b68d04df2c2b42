/**
 * Record of processing activities (GDPR Art. 30, UU PDP Art. 31): who processes shoppers' data for the shop
 * and why, and the share log (what went to whom, when, why). Erasure detaches the subject from share-log
 * rows (the evidence that a share happened stays; who it was about does not).
 */
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { StateStore } from '../../storage/ports.ts';
import type { HolderRegistry } from './holder.ts';
import { privacyDb } from './store.ts';

export type ProcessorRole = 'processor' | 'controller' | 'sub_processor';

export type Processor = {
  id: string;
  name: string;
  role: ProcessorRole;
  purposes: string[];
  categories: string[];
  country: string | null;
  /** Receives signed erasure notices; null for a processor notified by other means. */
  webhookUrl: string | null;
  active: boolean;
  createdAt: number;
};

export type ProcessorInput = Omit<Processor, 'id' | 'createdAt' | 'active'> & { active?: boolean };

export type ShareEntry = {
  id: string;
  ts: number;
  recipient: string;
  purpose: string;
  categories: string[];
  records: number;
  reason: string;
};

export type ProcessingRecord = {
  generatedAt: number;
  controller: string;
  processors: Processor[];
  activities: {
    holder: string;
    summary: string;
    tables: { table: string; category: string; purpose: string; retention: string }[];
  }[];
  shares: ShareEntry[];
};

export function createProcessingService(deps: { state: StateStore; clock: Clock; registry: HolderRegistry }) {
  const db = privacyDb(deps.state);
  const now = () => deps.clock.now().getTime();

  const listProcessors = async (activeOnly = false): Promise<Processor[]> => {
    let q = db.selectFrom('privacy_processors').selectAll().orderBy('name', 'asc');
    if (activeOnly) q = q.where('active', '=', 1);
    return (await q.execute()).map((r) => ({
      id: r.id,
      name: r.name,
      role: r.role as ProcessorRole,
      purposes: JSON.parse(r.purposes) as string[],
      categories: JSON.parse(r.categories) as string[],
      country: r.country,
      webhookUrl: r.webhook_url,
      active: Number(r.active) === 1,
      createdAt: Number(r.created_at),
    }));
  };

  return {
    listProcessors,

    async upsertProcessor(input: ProcessorInput): Promise<Processor> {
      if (input.webhookUrl !== null && !/^https?:\/\//.test(input.webhookUrl)) {
        throw new AppError('invalid_request', 'webhookUrl must be an http(s) URL, or null.');
      }
      const existing = await db
        .selectFrom('privacy_processors')
        .select('id')
        .where('name', '=', input.name)
        .executeTakeFirst();
      const values = {
        role: input.role,
        purposes: JSON.stringify(input.purposes),
        categories: JSON.stringify(input.categories),
        country: input.country,
        webhook_url: input.webhookUrl,
        active: input.active === false ? 0 : 1,
      };
      if (existing)
        await db.updateTable('privacy_processors').set(values).where('id', '=', existing.id).execute();
      else
        await db
          .insertInto('privacy_processors')
          .values({ id: newId('proc'), name: input.name, created_at: now(), ...values })
          .execute();
      const all = await listProcessors();
      return all.find((p) => p.name === input.name)!;
    },

    /** Records that data went to a recipient. `subjectId` links the entry to a shopper for their export. */
    async logShare(entry: {
      recipient: string;
      purpose: string;
      categories: string[];
      records: number;
      reason: string;
      subjectId?: string;
    }): Promise<string> {
      const id = newId('share');
      await db
        .insertInto('privacy_share_log')
        .values({
          id,
          ts: now(),
          recipient: entry.recipient,
          purpose: entry.purpose,
          categories: JSON.stringify(entry.categories),
          records: entry.records,
          reason: entry.reason,
          subject_id: entry.subjectId ?? null,
        })
        .execute();
      return id;
    },

    async sharesOf(subjectIds: readonly string[]): Promise<ShareEntry[]> {
      if (subjectIds.length === 0) return [];
      const rows = await db
        .selectFrom('privacy_share_log')
        .selectAll()
        .where('subject_id', 'in', [...subjectIds])
        .orderBy('ts', 'asc')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        ts: Number(r.ts),
        recipient: r.recipient,
        purpose: r.purpose,
        categories: JSON.parse(r.categories) as string[],
        records: Number(r.records),
        reason: r.reason,
      }));
    },

    async detachSubject(subjectIds: readonly string[]): Promise<number> {
      if (subjectIds.length === 0) return 0;
      const r = await db
        .updateTable('privacy_share_log')
        .set({ subject_id: null })
        .where('subject_id', 'in', [...subjectIds])
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },

    async record(controller: string, since?: number): Promise<ProcessingRecord> {
      let q = db.selectFrom('privacy_share_log').selectAll().orderBy('ts', 'desc').limit(10_000);
      if (since !== undefined) q = q.where('ts', '>=', since);
      const shares = (await q.execute()).map((r) => ({
        id: r.id,
        ts: Number(r.ts),
        recipient: r.recipient,
        purpose: r.purpose,
        categories: JSON.parse(r.categories) as string[],
        records: Number(r.records),
        reason: r.reason,
      }));
      return {
        generatedAt: now(),
        controller,
        processors: await listProcessors(),
        activities: deps.registry.list().map((h) => {
          const d = h.describe();
          return {
            holder: d.name,
            summary: d.summary,
            tables: d.tables.map((t) => ({
              table: t.table,
              category: t.category,
              purpose: t.purpose,
              retention: t.retention,
            })),
          };
        }),
        shares,
      };
    },
  };
}

export type ProcessingService = ReturnType<typeof createProcessingService>;
