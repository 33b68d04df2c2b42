/**
 * A/B experiments: deterministic assignment by hashing (no cookie), sticky exposures, traffic allocation and
 * mutually exclusive layers, outcomes per exposed subject, and results with always-valid inference, CUPED,
 * winsorised revenue, Holm correction, a sample-ratio-mismatch alarm and guardrails.
 */
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { StateStore } from '../../storage/ports.ts';
import {
  compareArms,
  holmAdjust,
  sampleRatioMismatch,
  winsorise,
  type ArmStats,
  type Comparison,
  type SrmResult,
} from './statistics.ts';
import { marketingDb, type ExperimentRow } from './store.ts';

/** Buckets per layer: traffic is allocated in 0.01% steps. */
export const BUCKETS = 10_000;

export type MetricKind = 'conversion' | 'mean' | 'revenue';
export type MetricRole = 'primary' | 'secondary' | 'guardrail';

export type MetricDefinition = {
  key: string;
  kind: MetricKind;
  role: MetricRole;
  /** The smallest absolute effect worth detecting; it tunes the sequential test's power. */
  mde: number;
  /** Use the pre-period value sent with outcomes as a CUPED covariate. */
  cuped?: boolean | undefined;
  /** Winsorising quantile for revenue (default 0.99). */
  winsorise?: number | undefined;
  /** For guardrails: which direction is harmful. */
  harmful?: 'decrease' | 'increase' | undefined;
};

export type Variant = { key: string; weight: number };

export type ExperimentInput = {
  key: string;
  name: string;
  /** Experiments sharing a layer never share a subject. Default: a layer of its own. */
  layer?: string | undefined;
  /** Share of the layer's traffic (0–1] this experiment takes. */
  traffic?: number | undefined;
  variants: Variant[];
  metrics: MetricDefinition[];
  mode?: 'sequential' | 'fixed' | undefined;
  alpha?: number | undefined;
};

export type Experiment = {
  id: string;
  key: string;
  name: string;
  layer: string;
  status: 'draft' | 'running' | 'stopped';
  variants: Variant[];
  metrics: MetricDefinition[];
  traffic: number;
  buckets: [number, number];
  mode: 'sequential' | 'fixed';
  alpha: number;
  createdAt: number;
  startedAt: number | null;
  stoppedAt: number | null;
};

export type Assignment = {
  experiment: string;
  variant: string | null;
  /** Why there is no variant: not running, outside the experiment's traffic. */
  reason: 'assigned' | 'not_running' | 'not_in_traffic';
  exposed: boolean;
};

export type VariantResult = Comparison & {
  variant: string;
  n: number;
  /** Always-valid p-value (running minimum across looks) or the fixed-horizon p-value. */
  adjustedPValue: number;
  significant: boolean;
};

export type MetricResult = {
  metric: string;
  kind: MetricKind;
  role: MetricRole;
  winsorisedAt: number | null;
  control: { variant: string; n: number; mean: number };
  variants: VariantResult[];
};

export type ExperimentResults = {
  experiment: string;
  mode: 'sequential' | 'fixed';
  alpha: number;
  correction: 'holm';
  exposures: Record<string, number>;
  srm: SrmResult;
  metrics: MetricResult[];
  guardrailAlarms: { metric: string; variant: string; effect: number }[];
  /** Plain-language reading of the results. */
  warnings: string[];
};

/** Uniform number in [0, 1) from the salt and the subject (SHA-256, first 48 bits). */
export function hashUnit(salt: string, subjectId: string): number {
  const h = createHash('sha256').update(`${salt}\u0000${subjectId}`).digest();
  return h.readUIntBE(0, 6) / 2 ** 48;
}

/** The variant a subject falls into by weight (deterministic; the same inputs always give the same variant). */
export function pickVariant(variants: readonly Variant[], salt: string, subjectId: string): string {
  const total = variants.reduce((a, v) => a + v.weight, 0);
  let u = hashUnit(salt, subjectId) * total;
  for (const v of variants) {
    if (u < v.weight) return v.key;
    u -= v.weight;
  }
  return variants[variants.length - 1]!.key;
}

export function layerBucket(layer: string, subjectId: string): number {
  return Math.floor(hashUnit(`layer:${layer}`, subjectId) * BUCKETS);
}

function toExperiment(r: ExperimentRow): Experiment {
  const start = Number(r.bucket_start);
  const end = Number(r.bucket_end);
  return {
    id: r.id,
    key: r.key,
    name: r.name,
    layer: r.layer,
    status: r.status as Experiment['status'],
    variants: JSON.parse(r.variants) as Variant[],
    metrics: JSON.parse(r.metrics) as MetricDefinition[],
    traffic: (end - start) / BUCKETS,
    buckets: [start, end],
    mode: r.mode as Experiment['mode'],
    alpha: Number(r.alpha),
    createdAt: Number(r.created_at),
    startedAt: r.started_at === null ? null : Number(r.started_at),
    stoppedAt: r.stopped_at === null ? null : Number(r.stopped_at),
  };
}

export type ExperimentsService = ReturnType<typeof createExperimentsService>;

export function createExperimentsService(deps: { state: StateStore; clock: Clock }) {
  const db = marketingDb(deps.state);
  const now = () => deps.clock.now().getTime();

  async function get(idOrKey: string): Promise<Experiment> {
    const row = await db
      .selectFrom('mkt_experiments')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrKey), eb('key', '=', idOrKey)]))
      .executeTakeFirst();
    if (!row)
      throw new AppError('not_found', `No experiment ${idOrKey}; list them with GET /v1/experiments.`);
    return toExperiment(row);
  }

  /** First free range of `width` buckets in the layer among experiments that are not stopped. */
  async function allocate(layer: string, width: number): Promise<[number, number]> {
    const taken = (
      await db
        .selectFrom('mkt_experiments')
        .select(['bucket_start', 'bucket_end'])
        .where('layer', '=', layer)
        .where('status', '!=', 'stopped')
        .execute()
    )
      .map((r) => [Number(r.bucket_start), Number(r.bucket_end)] as const)
      .sort((a, b) => a[0] - b[0]);
    let cursor = 0;
    for (const [s, e] of taken) {
      if (s - cursor >= width) return [cursor, cursor + width];
      cursor = Math.max(cursor, e);
    }
    if (BUCKETS - cursor >= width) return [cursor, cursor + width];
    throw new AppError(
      'conflict',
      `Layer ${layer} has ${((BUCKETS - taken.reduce((a, [s, e]) => a + e - s, 0)) / 100).toFixed(2)}% of traffic free; lower the traffic share or stop another experiment in the layer.`,
    );
  }

  async function create(input: ExperimentInput): Promise<Experiment> {
    const keys = new Set(input.variants.map((v) => v.key));
    if (keys.size !== input.variants.length)
      throw new AppError('invalid_request', 'Variant keys must be unique.');
    const metricKeys = new Set(input.metrics.map((m) => m.key));
    if (metricKeys.size !== input.metrics.length)
      throw new AppError('invalid_request', 'Metric keys must be unique.');
    const id = newId('exp');
    const layer = input.layer ?? `exp:${input.key}`;
    const width = Math.round((input.traffic ?? 1) * BUCKETS);
    if (width < 1) throw new AppError('invalid_request', 'traffic must be at least 0.0001.');
    {
      const existing = await db
        .selectFrom('mkt_experiments')
        .select('id')
        .where('key', '=', input.key)
        .executeTakeFirst();
      if (existing)
        throw new AppError('conflict', `An experiment with key ${input.key} exists; choose another key.`);
      const [start, end] = await allocate(layer, width);
      await db
        .insertInto('mkt_experiments')
        .values({
          id,
          key: input.key,
          name: input.name,
          layer,
          salt: randomBytes(16).toString('hex'),
          status: 'draft',
          variants: JSON.stringify(input.variants),
          metrics: JSON.stringify(input.metrics),
          bucket_start: start,
          bucket_end: end,
          mode: input.mode ?? 'sequential',
          alpha: input.alpha ?? 0.05,
          created_at: now(),
          started_at: null,
          stopped_at: null,
        })
        .execute();
    }
    return get(id);
  }

  async function setStatus(idOrKey: string, status: 'running' | 'stopped'): Promise<Experiment> {
    const e = await get(idOrKey);
    if (e.status === 'stopped')
      throw new AppError('conflict', 'A stopped experiment cannot change; create a new one.');
    await db
      .updateTable('mkt_experiments')
      .set(
        status === 'running' ? { status, started_at: e.startedAt ?? now() } : { status, stopped_at: now() },
      )
      .where('id', '=', e.id)
      .execute();
    return get(e.id);
  }

  async function assign(
    experimentKey: string,
    subjectId: string,
    options: { expose?: boolean } = {},
  ): Promise<Assignment> {
    const e = await get(experimentKey);
    const sticky = await db
      .selectFrom('mkt_exposures')
      .select('variant')
      .where('experiment_id', '=', e.id)
      .where('subject_id', '=', subjectId)
      .executeTakeFirst();
    if (sticky) return { experiment: e.key, variant: sticky.variant, reason: 'assigned', exposed: true };
    if (e.status !== 'running')
      return { experiment: e.key, variant: null, reason: 'not_running', exposed: false };
    const bucket = layerBucket(e.layer, subjectId);
    if (bucket < e.buckets[0] || bucket >= e.buckets[1])
      return { experiment: e.key, variant: null, reason: 'not_in_traffic', exposed: false };
    const variant = pickVariant(e.variants, `${e.key}:${e.id}`, subjectId);
    if (options.expose === false) return { experiment: e.key, variant, reason: 'assigned', exposed: false };
    await db
      .insertInto('mkt_exposures')
      .values({ experiment_id: e.id, subject_id: subjectId, variant, exposed_at: now() })
      .onConflict((oc) => oc.columns(['experiment_id', 'subject_id']).doNothing())
      .execute();
    return { experiment: e.key, variant, reason: 'assigned', exposed: true };
  }

  /** Adds `value` to the subject's metric (only subjects exposed to the experiment count). */
  async function recordOutcome(input: {
    experiment: string;
    subjectId: string;
    metric: string;
    value: number;
    preValue?: number;
  }): Promise<{ recorded: boolean; reason: 'recorded' | 'not_exposed' }> {
    const e = await get(input.experiment);
    if (!e.metrics.some((m) => m.key === input.metric))
      throw new AppError(
        'invalid_request',
        `Experiment ${e.key} has no metric ${input.metric}; its metrics are ${e.metrics.map((m) => m.key).join(', ')}.`,
      );
    const exposed = await db
      .selectFrom('mkt_exposures')
      .select('variant')
      .where('experiment_id', '=', e.id)
      .where('subject_id', '=', input.subjectId)
      .executeTakeFirst();
    if (!exposed) return { recorded: false, reason: 'not_exposed' };
    await db
      .insertInto('mkt_outcomes')
      .values({
        experiment_id: e.id,
        subject_id: input.subjectId,
        metric: input.metric,
        value: input.value,
        pre_value: input.preValue ?? null,
        updated_at: now(),
      })
      .onConflict((oc) =>
        oc.columns(['experiment_id', 'subject_id', 'metric']).doUpdateSet({
          value: sql<number>`mkt_outcomes.value + excluded.value`,
          pre_value: sql<number>`coalesce(excluded.pre_value, mkt_outcomes.pre_value)`,
          updated_at: now(),
        }),
      )
      .execute();
    return { recorded: true, reason: 'recorded' };
  }

  async function results(idOrKey: string): Promise<ExperimentResults> {
    const e = await get(idOrKey);
    const exposures = await db
      .selectFrom('mkt_exposures')
      .select(['subject_id', 'variant'])
      .where('experiment_id', '=', e.id)
      .execute();
    const outcomes = await db
      .selectFrom('mkt_outcomes')
      .select(['subject_id', 'metric', 'value', 'pre_value'])
      .where('experiment_id', '=', e.id)
      .execute();
    const byMetric = new Map<string, Map<string, { v: number; x: number | null }>>();
    for (const o of outcomes) {
      let m = byMetric.get(o.metric);
      if (!m) byMetric.set(o.metric, (m = new Map<string, { v: number; x: number | null }>()));
      m.set(o.subject_id, { v: Number(o.value), x: o.pre_value === null ? null : Number(o.pre_value) });
    }
    const counts: Record<string, number> = Object.fromEntries(e.variants.map((v) => [v.key, 0]));
    for (const x of exposures) counts[x.variant] = (counts[x.variant] ?? 0) + 1;
    const srm = sampleRatioMismatch(
      e.variants.map((v) => counts[v.key] ?? 0),
      e.variants.map((v) => v.weight),
    );
    const control = e.variants[0]!.key;
    const metricResults: MetricResult[] = [];
    for (const def of e.metrics) {
      const values = byMetric.get(def.key) ?? new Map<string, { v: number; x: number | null }>();
      let raw = exposures.map((x) => {
        const o = values.get(x.subject_id);
        const v = o?.v ?? 0;
        return { variant: x.variant, y: def.kind === 'conversion' ? (v > 0 ? 1 : 0) : v, x: o?.x ?? 0 };
      });
      let cap: number | null = null;
      if (def.kind === 'revenue') {
        const w = winsorise(
          raw.map((r) => r.y),
          def.winsorise ?? 0.99,
        );
        cap = w.cap;
        raw = raw.map((r, i) => ({ ...r, y: w.values[i]! }));
      }
      const arms = new Map<string, ArmStats>();
      for (const v of e.variants)
        arms.set(
          v.key,
          def.cuped ? { n: 0, sumY: 0, sumY2: 0, sumX: 0, sumX2: 0, sumXY: 0 } : { n: 0, sumY: 0, sumY2: 0 },
        );
      for (const r of raw) {
        const a = arms.get(r.variant);
        if (!a) continue;
        a.n++;
        a.sumY += r.y;
        a.sumY2 += r.y * r.y;
        if (def.cuped) {
          a.sumX! += r.x;
          a.sumX2! += r.x * r.x;
          a.sumXY! += r.x * r.y;
        }
      }
      const c = arms.get(control)!;
      const variants: VariantResult[] = [];
      for (const v of e.variants.slice(1)) {
        const t = arms.get(v.key)!;
        const cmp = compareArms(c, t, { mode: e.mode, alpha: e.alpha, tau: def.mde });
        variants.push({ ...cmp, variant: v.key, n: t.n, adjustedPValue: cmp.pValue, significant: false });
      }
      metricResults.push({
        metric: def.key,
        kind: def.kind,
        role: def.role,
        winsorisedAt: cap,
        control: { variant: control, n: c.n, mean: c.n ? c.sumY / c.n : 0 },
        variants,
      });
    }
    // Always valid means the running minimum over every look so far; it is kept per metric and variant.
    if (e.mode === 'sequential') {
      for (const m of metricResults) {
        for (const v of m.variants) {
          const prev = await db
            .selectFrom('mkt_monitor')
            .select(['min_p', 'looks'])
            .where('experiment_id', '=', e.id)
            .where('metric', '=', m.metric)
            .where('variant', '=', v.variant)
            .executeTakeFirst();
          const minP = Math.min(v.pValue, prev ? Number(prev.min_p) : 1);
          v.pValue = minP;
          await db
            .insertInto('mkt_monitor')
            .values({
              experiment_id: e.id,
              metric: m.metric,
              variant: v.variant,
              min_p: minP,
              looks: 1,
              updated_at: now(),
            })
            .onConflict((oc) =>
              oc.columns(['experiment_id', 'metric', 'variant']).doUpdateSet({
                min_p: minP,
                looks: sql<number>`mkt_monitor.looks + 1`,
                updated_at: now(),
              }),
            )
            .execute();
        }
      }
    }
    // Holm across every non-guardrail metric × variant comparison; guardrails stay uncorrected (they protect).
    const tested = metricResults.filter((m) => m.role !== 'guardrail').flatMap((m) => m.variants);
    const adjusted = holmAdjust(tested.map((v) => v.pValue));
    tested.forEach((v, i) => {
      v.adjustedPValue = adjusted[i]!;
      v.significant = v.adjustedPValue <= e.alpha;
    });
    const guardrailAlarms: ExperimentResults['guardrailAlarms'] = [];
    for (const m of metricResults.filter((x) => x.role === 'guardrail')) {
      const def = e.metrics.find((d) => d.key === m.metric)!;
      for (const v of m.variants) {
        v.significant = v.pValue <= e.alpha;
        const harmful = def.harmful === 'increase' ? v.effect > 0 : v.effect < 0;
        if (v.significant && harmful)
          guardrailAlarms.push({ metric: m.metric, variant: v.variant, effect: v.effect });
      }
    }
    const warnings: string[] = [];
    if (srm.mismatch)
      warnings.push(
        `Sample ratio mismatch (chi-square p=${srm.pValue.toExponential(2)}): the arms do not match the designed split, so assignment or exposure logging is broken; do not trust these results.`,
      );
    for (const g of guardrailAlarms)
      warnings.push(
        `Guardrail ${g.metric} moved the harmful way in variant ${g.variant}; consider stopping it.`,
      );
    return {
      experiment: e.key,
      mode: e.mode,
      alpha: e.alpha,
      correction: 'holm',
      exposures: counts,
      srm,
      metrics: metricResults,
      guardrailAlarms,
      warnings,
    };
  }

  return {
    create,
    get,
    list: async (): Promise<Experiment[]> =>
      (await db.selectFrom('mkt_experiments').selectAll().orderBy('created_at', 'desc').execute()).map(
        toExperiment,
      ),
    start: (idOrKey: string) => setStatus(idOrKey, 'running'),
    stop: (idOrKey: string) => setStatus(idOrKey, 'stopped'),
    assign,
    recordOutcome,
    results,
    async exportSubjects(ids: readonly string[]) {
      if (ids.length === 0) return { exposures: [], outcomes: [] };
      return {
        exposures: await db
          .selectFrom('mkt_exposures')
          .selectAll()
          .where('subject_id', 'in', [...ids])
          .execute(),
        outcomes: await db
          .selectFrom('mkt_outcomes')
          .selectAll()
          .where('subject_id', 'in', [...ids])
          .execute(),
      };
    },
    async eraseSubjects(ids: readonly string[]): Promise<number> {
      if (ids.length === 0) return 0;
      const a = await db
        .deleteFrom('mkt_exposures')
        .where('subject_id', 'in', [...ids])
        .executeTakeFirst();
      const b = await db
        .deleteFrom('mkt_outcomes')
        .where('subject_id', 'in', [...ids])
        .executeTakeFirst();
      return Number(a.numDeletedRows) + Number(b.numDeletedRows);
    },
  };
}
