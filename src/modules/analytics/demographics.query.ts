/**
 * Demographics: the shoppers active in the range by age band, gender and region, only from traits the
 * shopper declared and still consents to share (the profiles module answers through `DemographicsReader`;
 * analytics never reads profile tables). Each group reports its shoppers and how many of them ordered.
 * A shopper who declared nothing, or whose consent is gone, is counted under `undeclared` only in totals.
 */
import { sql } from 'kysely';
import type { EventStore } from '../../storage/ports.ts';
import { byCountThenKey, inRange, num, ratio, type TimeRange } from './sql.ts';

export type DeclaredDemographics = { ageBand?: string; gender?: string; region?: string };

/**
 * Declared traits of these subjects (pseudonyms, as the event store holds them), for those who consent
 * to sharing them now; subjects without consent or without declared traits are absent from the map.
 */
export type DemographicsReader = (
  subjectIds: readonly string[],
) => Promise<Map<string, DeclaredDemographics>>;

export type DemographicsParams = { range: TimeRange };

export type DemographicGroup = {
  value: string;
  shoppers: number;
  buyers: number;
  conversionRate: number | null;
};

export type DemographicsResult = {
  shoppers: number;
  /** Active shoppers with at least one declared, consented trait. */
  declared: number;
  ageBand: DemographicGroup[];
  gender: DemographicGroup[];
  region: DemographicGroup[];
};

/** Active shoppers asked about per question; beyond this the answer covers the most active ones. */
export const MAX_DEMOGRAPHIC_SUBJECTS = 200_000;

export async function demographicsQuery(
  events: EventStore,
  reader: DemographicsReader,
  p: DemographicsParams,
): Promise<DemographicsResult> {
  const rows = await sql<{ subject_id: string; bought: unknown }>`
    select subject_id, max(case when type = 'order_completed' then 1 else 0 end) as bought
    from events where ${inRange(p.range)}
    group by subject_id order by count(*) desc, subject_id limit ${MAX_DEMOGRAPHIC_SUBJECTS}`.execute(
    events.db,
  );
  const traits = await reader(rows.rows.map((r) => r.subject_id));
  const groups = {
    ageBand: new Map<string, { shoppers: number; buyers: number }>(),
    gender: new Map<string, { shoppers: number; buyers: number }>(),
    region: new Map<string, { shoppers: number; buyers: number }>(),
  };
  let declared = 0;
  for (const r of rows.rows) {
    const t = traits.get(r.subject_id);
    if (!t) continue;
    const bought = num(r.bought) === 1 ? 1 : 0;
    let any = false;
    for (const dim of ['ageBand', 'gender', 'region'] as const) {
      const v = t[dim];
      if (v === undefined || v.length === 0) continue;
      any = true;
      const g = groups[dim].get(v) ?? { shoppers: 0, buyers: 0 };
      g.shoppers++;
      g.buyers += bought;
      groups[dim].set(v, g);
    }
    if (any) declared++;
  }
  const list = (m: Map<string, { shoppers: number; buyers: number }>): DemographicGroup[] =>
    [...m.entries()]
      .map(([value, g]) => ({
        value,
        shoppers: g.shoppers,
        buyers: g.buyers,
        conversionRate: ratio(g.buyers, g.shoppers),
      }))
      .sort(
        byCountThenKey(
          (g) => g.shoppers,
          (g) => g.value,
        ),
      );
  return {
    shoppers: rows.rows.length,
    declared,
    ageBand: list(groups.ageBand),
    gender: list(groups.gender),
    region: list(groups.region),
  };
}
