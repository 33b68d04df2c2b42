/**
 * Builds one export bundle for a subject by walking every registered personal-data holder: a JSON
 * document (every holder's section, events with their purposes, retention per data category, recipients,
 * sources, automated decisions in plain language) and one CSV per table.
 */
import type { Clock } from '../../kernel/clock.ts';
import {
  subjectIdsOf,
  toCsv,
  type ExportBundle,
  type HolderRegistry,
  type Processor,
  type Subject,
} from '../../modules/privacy/index.ts';

export type ExportFlowDeps = {
  registry: HolderRegistry;
  clock: Clock;
  retentionPolicies(): Promise<{ dataClass: string; ttlDays: number }[]>;
  processors(): Promise<Processor[]>;
};

export type ExportDocument = {
  kind: 'candor.personal-data-export';
  version: 1;
  generatedAt: string;
  requestId: string;
  subject: { customerPseudonym: string | null; pseudonyms: string[] };
  sections: Record<
    string,
    {
      summary: string;
      sources: string[];
      tables: Record<string, Record<string, unknown>[]>;
      notes: string[];
      retention: { table: string; category: string; purpose: string; retention: string }[];
    }
  >;
  retention: { dataClass: string; ttlDays: number }[];
  recipients: {
    name: string;
    role: string;
    purposes: string[];
    categories: string[];
    country: string | null;
    since: string;
  }[];
  sources: string[];
  automatedDecisions: { holder: string; name: string; description: string; effect: string }[];
};

/** Rows as plain JSON values (bigints become numbers, buffers base64). */
function plainRows(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [
        k,
        typeof v === 'bigint' ? Number(v) : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
      ]),
    ),
  );
}

export function createExportFlow(deps: ExportFlowDeps) {
  return {
    async exportSubject(subject: Subject, requestId: string): Promise<ExportBundle> {
      const generatedAt = deps.clock.now().getTime();
      const ids = subjectIdsOf(subject);
      const sections: ExportDocument['sections'] = {};
      const csv: Record<string, string> = {};
      const sources = new Set<string>();
      const decisions: ExportDocument['automatedDecisions'] = [];
      for (const holder of deps.registry.list()) {
        const d = holder.describe();
        const data = await holder.export({ ...subject, subjectIds: ids });
        const tables: Record<string, Record<string, unknown>[]> = {};
        for (const [table, rows] of Object.entries(data.tables)) {
          tables[table] = plainRows(rows);
          if (rows.length > 0) csv[`${d.name}/${table}.csv`] = toCsv(tables[table]);
        }
        sections[d.name] = {
          summary: d.summary,
          sources: d.sources ?? [],
          tables,
          notes: data.notes ?? [],
          retention: d.tables.map((t) => ({
            table: t.table,
            category: t.category,
            purpose: t.purpose,
            retention: t.retention,
          })),
        };
        for (const s of d.sources ?? []) sources.add(s);
        for (const a of d.automatedDecisions ?? []) decisions.push({ holder: d.name, ...a });
      }
      const document: ExportDocument = {
        kind: 'candor.personal-data-export',
        version: 1,
        generatedAt: new Date(generatedAt).toISOString(),
        requestId,
        subject: { customerPseudonym: subject.userId ?? null, pseudonyms: ids },
        sections,
        retention: await deps.retentionPolicies(),
        recipients: (await deps.processors())
          .filter((p) => p.active)
          .map((p) => ({
            name: p.name,
            role: p.role,
            purposes: p.purposes,
            categories: p.categories,
            country: p.country,
            since: new Date(p.createdAt).toISOString(),
          })),
        sources: [...sources],
        automatedDecisions: decisions,
      };
      return { generatedAt, document: document as unknown as Record<string, unknown>, csv };
    },
  };
}

export type ExportFlow = ReturnType<typeof createExportFlow>;
