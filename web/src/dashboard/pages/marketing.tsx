/**
 * Marketing: the segment builder with a live size estimate (sizes under k are hidden for every role but
 * the owner, as the API decides), campaigns with the dry-run exclusion counts by reason, experiments with
 * sequential results, intervals, the sample-ratio-mismatch warning and guardrails, and one shopper's
 * loyalty ledger (loyalty:admin; each look-up is audited by the API).
 */
import { useEffect, useState, type FormEvent } from 'react';
import { ChartFigure, DataTable } from '../../shared/charts.tsx';
import { fmtDateTime, fmtNumber, fmtPercent } from '../../shared/format.ts';
import { useLoad } from '../../shared/hooks.ts';
import { useI18n, type MessageKey } from '../../shared/i18n.ts';
import { ErrorMessage, Loaded, Status } from '../../shared/ui.tsx';
import { useSession } from '../session.ts';
import { EVENT_TYPES } from './analytics.tsx';

// ---- Segments ---------------------------------------------------------------------------------------

type Condition =
  | { kind: 'event'; event: string; min: number; withinDays: number }
  | { kind: 'interest'; interest: string }
  | { kind: 'consent'; purpose: string; granted: boolean }
  | { kind: 'trait'; trait: string; op: string; value: string };

const TRAITS = ['lifecycle', 'churn_risk', 'rfm.r', 'rfm.f', 'rfm.m', 'age_band', 'gender', 'region'];
const OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte'];
const MARKETING_PURPOSES = ['marketing_email', 'marketing_push', 'personalization', 'advertising'];

function ruleOf(join: 'all' | 'any', conditions: readonly Condition[]): Record<string, unknown> {
  const parts = conditions.map((c): Record<string, unknown> => {
    switch (c.kind) {
      case 'event':
        return { event: c.event, min: c.min, withinDays: c.withinDays };
      case 'interest':
        return { interest: c.interest };
      case 'consent':
        return { consent: c.purpose, granted: c.granted };
      case 'trait': {
        const n = Number(c.value);
        return { trait: c.trait, op: c.op, value: c.value.trim() !== '' && !Number.isNaN(n) ? n : c.value };
      }
    }
  });
  return { [join]: parts };
}

type Segment = {
  id: string;
  key: string;
  name: string;
  profileBased: boolean;
  size: number | null;
  createdAt: number;
  refreshedAt: number | null;
};
type Estimate = {
  size: number | null;
  suppressed: boolean;
  kAnonymity: number | null;
  profileBased: boolean;
};

function SizeText(props: { size: number | null; k?: number | null }) {
  const { t, locale } = useI18n();
  return props.size === null ? (
    <span className="hidden-group">{t('segments.hidden', { k: props.k ?? '—' })}</span>
  ) : (
    <>{fmtNumber(locale, props.size)}</>
  );
}

function ConditionEditor(props: { c: Condition; n: number; onChange: (c: Condition) => void }) {
  const { t } = useI18n();
  const { c, n, onChange } = props;
  const label = (key: MessageKey) => `${t(key)} (${t('segments.condition', { n })})`;
  switch (c.kind) {
    case 'event':
      return (
        <>
          <label>
            {label('segments.event')}
            <select value={c.event} onChange={(e) => onChange({ ...c, event: e.target.value })}>
              {EVENT_TYPES.map((ev) => (
                <option key={ev} value={ev}>
                  {ev}
                </option>
              ))}
            </select>
          </label>
          <label>
            {label('segments.atLeast')}
            <input
              type="number"
              min={0}
              max={1000}
              value={c.min}
              onChange={(e) => onChange({ ...c, min: Math.max(0, Number(e.target.value) || 0) })}
            />
          </label>
          <label>
            {label('segments.withinDays')}
            <input
              type="number"
              min={1}
              max={3650}
              value={c.withinDays}
              onChange={(e) => onChange({ ...c, withinDays: Math.max(1, Number(e.target.value) || 1) })}
            />
          </label>
        </>
      );
    case 'interest':
      return (
        <label>
          {label('segments.interest')}
          <input
            type="text"
            value={c.interest}
            maxLength={100}
            onChange={(e) => onChange({ ...c, interest: e.target.value })}
          />
        </label>
      );
    case 'consent':
      return (
        <>
          <label>
            {label('segments.purpose')}
            <select value={c.purpose} onChange={(e) => onChange({ ...c, purpose: e.target.value })}>
              {MARKETING_PURPOSES.map((p) => (
                <option key={p} value={p}>
                  {t(`purpose.${p}` as MessageKey)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {label('segments.granted')}
            <select
              value={c.granted ? 'yes' : 'no'}
              onChange={(e) => onChange({ ...c, granted: e.target.value === 'yes' })}
            >
              <option value="yes">{t('pc.on')}</option>
              <option value="no">{t('pc.off')}</option>
            </select>
          </label>
        </>
      );
    case 'trait':
      return (
        <>
          <label>
            {label('segments.trait')}
            <select value={c.trait} onChange={(e) => onChange({ ...c, trait: e.target.value })}>
              {TRAITS.map((tr) => (
                <option key={tr} value={tr}>
                  {tr}
                </option>
              ))}
            </select>
          </label>
          <label>
            {label('segments.op')}
            <select value={c.op} onChange={(e) => onChange({ ...c, op: e.target.value })}>
              {OPS.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
          </label>
          <label>
            {label('segments.value')}
            <input
              type="text"
              value={c.value}
              maxLength={200}
              onChange={(e) => onChange({ ...c, value: e.target.value })}
            />
          </label>
        </>
      );
  }
}

const NEW_CONDITION: Record<Condition['kind'], Condition> = {
  event: { kind: 'event', event: 'order_completed', min: 1, withinDays: 90 },
  interest: { kind: 'interest', interest: '' },
  consent: { kind: 'consent', purpose: 'marketing_email', granted: true },
  trait: { kind: 'trait', trait: 'lifecycle', op: 'eq', value: 'active' },
};

export function SegmentsPage() {
  const { t, locale } = useI18n();
  const { api, can } = useSession();
  const list = useLoad(() => api.get<{ segments: Segment[] }>('/v1/segments'), [api]);
  const [join, setJoin] = useState<'all' | 'any'>('all');
  const [conditions, setConditions] = useState<Condition[]>([NEW_CONDITION.event]);
  const [estimate, setEstimate] = useState<Estimate>();
  const [estimateError, setEstimateError] = useState<unknown>();
  const [key, setKey] = useState('');
  const [name, setName] = useState('');
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<unknown>();
  const rule = ruleOf(join, conditions);
  const ruleJson = JSON.stringify(rule);

  // Live size: re-estimated a moment after the last change, so typing does not send a request per key.
  useEffect(() => {
    let stale = false;
    const timer = setTimeout(() => {
      api.send<Estimate>('POST', '/v1/segments/estimate', { rule: JSON.parse(ruleJson) as unknown }).then(
        (e) => {
          if (stale) return;
          setEstimate(e);
          setEstimateError(undefined);
        },
        (e: unknown) => {
          if (stale) return;
          setEstimate(undefined);
          setEstimateError(e);
        },
      );
    }, 350);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [api, ruleJson]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setMessage(undefined);
    try {
      await api.send('POST', '/v1/segments', { key, name, rule });
      setMessage(t('segments.saved', { name }));
      setKey('');
      setName('');
      list.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section aria-labelledby="h-segments">
      <h1 id="h-segments">{t('segments.title')}</h1>
      {message ? <Status>{message}</Status> : null}
      {error ? <ErrorMessage error={error} /> : null}
      <Loaded load={list}>
        {(d) => (
          <DataTable
            caption={t('segments.list')}
            csvName="segments.csv"
            rows={d.segments}
            rowKey={(s) => s.id}
            columns={[
              { key: 'n', label: t('segments.name'), value: (s) => s.name },
              { key: 'k', label: t('segments.key'), value: (s) => s.key },
              {
                key: 's',
                label: t('segments.size'),
                value: (s) => s.size,
                render: (s) => <SizeText size={s.size} />,
                numeric: true,
              },
              {
                key: 'p',
                label: t('segments.profileBased'),
                value: (s) => (s.profileBased ? t('pc.on') : t('pc.off')),
              },
              {
                key: 'r',
                label: t('segments.refreshed'),
                value: (s) => fmtDateTime(locale, s.refreshedAt ?? s.createdAt),
              },
            ]}
          />
        )}
      </Loaded>
      <form className="card" onSubmit={(e) => void save(e)}>
        <h2>{t('segments.builder')}</h2>
        <label>
          {t('segments.join')}
          <select value={join} onChange={(e) => setJoin(e.target.value as 'all' | 'any')}>
            <option value="all">{t('segments.all')}</option>
            <option value="any">{t('segments.any')}</option>
          </select>
        </label>
        <ol className="rule-list">
          {conditions.map((c, i) => (
            <li key={i}>
              <div className="controls">
                <ConditionEditor
                  c={c}
                  n={i + 1}
                  onChange={(next) => setConditions(conditions.map((x, j) => (j === i ? next : x)))}
                />
                {conditions.length > 1 ? (
                  <button
                    type="button"
                    className="link"
                    onClick={() => setConditions(conditions.filter((_, j) => j !== i))}
                  >
                    {t('segments.remove', { n: i + 1 })}
                  </button>
                ) : null}
              </div>
            </li>
          ))}
        </ol>
        <div className="row-actions" role="group" aria-label={t('segments.add')}>
          {(['event', 'interest', 'consent', 'trait'] as const).map((k) => (
            <button
              key={k}
              type="button"
              onClick={() => setConditions([...conditions, NEW_CONDITION[k]])}
              disabled={conditions.length >= 50}
            >
              {t(`segments.add.${k}`)}
            </button>
          ))}
        </div>
        <p aria-live="polite" className="estimate">
          {t('segments.estimate')}:{' '}
          {estimate ? (
            <strong>
              <SizeText size={estimate.size} k={estimate.kAnonymity} />
            </strong>
          ) : estimateError ? null : (
            t('app.loading')
          )}
        </p>
        {estimateError ? <ErrorMessage error={estimateError} /> : null}
        {can('marketing:write') ? (
          <>
            <label>
              {t('segments.name')}
              <input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
            </label>
            <label>
              {t('segments.key')}
              <input
                required
                pattern="[a-z0-9][a-z0-9_\-]{0,63}"
                value={key}
                onChange={(e) => setKey(e.target.value)}
              />
            </label>
            <button type="submit" className="primary">
              {t('segments.save')}
            </button>
          </>
        ) : null}
      </form>
    </section>
  );
}

// ---- Campaigns --------------------------------------------------------------------------------------

type Campaign = {
  id: string;
  key: string;
  name: string;
  segmentId: string;
  channel: string;
  purpose: string;
  holdout: number;
  frequencyCap: { count: number; days: number };
  status: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
};
type SendReport = {
  campaign: string;
  dryRun: boolean;
  status: string;
  audience: number;
  holdout: number;
  sent: number;
  alreadySent: number;
  excluded: Record<string, number>;
  deferred: number;
  unknown: number;
};
const EXCLUSIONS = ['suppressed', 'no_consent', 'frequency_cap', 'no_address', 'send_failed'] as const;

export function CampaignsPage() {
  const { t, locale } = useI18n();
  const { api, can } = useSession();
  const list = useLoad(() => api.get<{ campaigns: Campaign[] }>('/v1/campaigns'), [api]);
  const [open, setOpen] = useState<string>();
  const [report, setReport] = useState<SendReport>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const results = useLoad(
    () =>
      open
        ? api.get<Record<string, unknown>>(`/v1/campaigns/${encodeURIComponent(open)}/results`)
        : Promise.resolve(null),
    [api, open],
  );
  const dryRun = async () => {
    if (!open) return;
    setBusy(true);
    setError(undefined);
    try {
      setReport(
        await api.send<SendReport>('POST', `/v1/campaigns/${encodeURIComponent(open)}/send`, {
          dryRun: true,
        }),
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const campaign = list.data?.campaigns.find((c) => c.id === open);
  return (
    <section aria-labelledby="h-campaigns">
      <h1 id="h-campaigns">{t('campaigns.title')}</h1>
      {error ? <ErrorMessage error={error} /> : null}
      <Loaded load={list}>
        {(d) => (
          <DataTable
            caption={t('campaigns.list')}
            csvName="campaigns.csv"
            rows={d.campaigns}
            rowKey={(c) => c.id}
            columns={[
              { key: 'n', label: t('segments.name'), value: (c) => c.name },
              { key: 'ch', label: t('campaigns.channel'), value: (c) => c.channel },
              { key: 's', label: t('dsar.status'), value: (c) => c.status },
              {
                key: 'h',
                label: t('campaigns.holdout'),
                value: (c) => c.holdout,
                render: (c) => fmtPercent(locale, c.holdout),
                numeric: true,
              },
              { key: 'c', label: t('campaigns.created'), value: (c) => fmtDateTime(locale, c.createdAt) },
              {
                key: 'o',
                label: t('inbox.open'),
                value: () => '',
                render: (c) => (
                  <button
                    type="button"
                    aria-pressed={open === c.id}
                    onClick={() => {
                      setOpen(c.id);
                      setReport(undefined);
                    }}
                  >
                    {t('inbox.open')} <span className="sr-only">{c.name}</span>
                  </button>
                ),
              },
            ]}
          />
        )}
      </Loaded>
      {campaign ? (
        <div className="card">
          <h2>{t('campaigns.detail', { name: campaign.name })}</h2>
          <dl className="details">
            <div>
              <dt>{t('segments.key')}</dt>
              <dd>{campaign.key}</dd>
            </div>
            <div>
              <dt>{t('campaigns.purpose')}</dt>
              <dd>{t(`purpose.${campaign.purpose}` as MessageKey)}</dd>
            </div>
            <div>
              <dt>{t('campaigns.cap')}</dt>
              <dd>
                {t('campaigns.capValue', {
                  count: campaign.frequencyCap.count,
                  days: campaign.frequencyCap.days,
                })}
              </dd>
            </div>
          </dl>
          {can('marketing:write') ? (
            <button type="button" className="primary" disabled={busy} onClick={() => void dryRun()}>
              {t('campaigns.dryRun')}
            </button>
          ) : null}
          {report ? (
            <div aria-live="polite">
              <ul className="kpis">
                <li className="kpi">
                  <span className="kpi-label">{t('campaigns.audience')}</span>
                  <span className="kpi-value">{fmtNumber(locale, report.audience)}</span>
                </li>
                <li className="kpi">
                  <span className="kpi-label">{t('campaigns.wouldSend')}</span>
                  <span className="kpi-value">{fmtNumber(locale, report.sent)}</span>
                </li>
                <li className="kpi">
                  <span className="kpi-label">{t('campaigns.holdoutGroup')}</span>
                  <span className="kpi-value">{fmtNumber(locale, report.holdout)}</span>
                </li>
                <li className="kpi">
                  <span className="kpi-label">{t('campaigns.deferred')}</span>
                  <span className="kpi-value">{fmtNumber(locale, report.deferred)}</span>
                </li>
              </ul>
              <DataTable
                caption={t('campaigns.exclusions')}
                csvName={`campaign-${campaign.key}-exclusions.csv`}
                rows={EXCLUSIONS.map((r) => ({ reason: r, n: report.excluded[r] ?? 0 }))}
                rowKey={(r) => r.reason}
                columns={[
                  {
                    key: 'r',
                    label: t('campaigns.reason'),
                    value: (r) => r.reason,
                    render: (r) => t(`campaigns.excluded.${r.reason}`),
                  },
                  { key: 'n', label: t('kpi.shoppers'), value: (r) => r.n, numeric: true },
                ]}
              />
            </div>
          ) : null}
          <h3>{t('campaigns.results')}</h3>
          <Loaded load={results}>
            {(r) =>
              r ? (
                <dl className="details">
                  {Object.entries(r).flatMap(([k, v]) =>
                    typeof v === 'number' || typeof v === 'string' || v === null
                      ? [
                          <div key={k}>
                            <dt>{k}</dt>
                            <dd>{typeof v === 'number' ? fmtNumber(locale, v, 4) : (v ?? '—')}</dd>
                          </div>,
                        ]
                      : [],
                  )}
                </dl>
              ) : null
            }
          </Loaded>
        </div>
      ) : null}
    </section>
  );
}

// ---- Experiments ------------------------------------------------------------------------------------

type Experiment = {
  id: string;
  key: string;
  name: string;
  status: string;
  mode: string;
  alpha: number;
  variants: { key: string; weight: number }[];
  startedAt: number | null;
};
type VariantResult = {
  variant: string;
  n: number;
  effect: number;
  relativeEffect: number | null;
  pValue: number;
  adjustedPValue: number;
  significant: boolean;
  interval: [number, number];
  controlMean: number;
  treatmentMean: number;
};
type MetricResult = {
  metric: string;
  kind: string;
  role: string;
  control: { variant: string; n: number; mean: number };
  variants: VariantResult[];
};
type Results = {
  experiment: string;
  mode: string;
  alpha: number;
  exposures: Record<string, number>;
  srm: { chiSquare: number; pValue: number; mismatch: boolean };
  metrics: MetricResult[];
  guardrailAlarms: { metric: string; variant: string; effect: number }[];
  warnings: string[];
};

/** Effects with their intervals on one axis through zero (a forest plot); the table holds the numbers. */
function IntervalChart(props: {
  rows: readonly { label: string; effect: number; lo: number; hi: number }[];
}) {
  const W = 640;
  const rowH = 28;
  const labelW = 170;
  const h = props.rows.length * rowH + 12;
  const ext = Math.max(1e-9, ...props.rows.flatMap((r) => [Math.abs(r.lo), Math.abs(r.hi)]));
  const x = (v: number) => labelW + ((W - labelW - 20) * (v + ext)) / (2 * ext);
  return (
    <svg viewBox={`0 0 ${W} ${h}`} className="svg-chart" aria-hidden="true" focusable="false">
      <line x1={x(0)} x2={x(0)} y1={0} y2={h} className="zero" />
      {props.rows.map((r, i) => (
        <g key={r.label} transform={`translate(0 ${i * rowH + 6})`}>
          <text x={labelW - 8} y={16} textAnchor="end" className="axis">
            {r.label.length > 24 ? `${r.label.slice(0, 23)}…` : r.label}
          </text>
          <line x1={x(r.lo)} x2={x(r.hi)} y1={12} y2={12} className="interval" />
          <circle cx={x(r.effect)} cy={12} r={5} className="dot s2" />
        </g>
      ))}
    </svg>
  );
}

export function ExperimentsPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const list = useLoad(() => api.get<{ items: Experiment[] }>('/v1/experiments'), [api]);
  const [open, setOpen] = useState<string>();
  const results = useLoad(
    () =>
      open ? api.get<Results>(`/v1/experiments/${encodeURIComponent(open)}/results`) : Promise.resolve(null),
    [api, open],
  );
  const num = (v: number) => fmtNumber(locale, v, 4);
  return (
    <section aria-labelledby="h-experiments">
      <h1 id="h-experiments">{t('experiments.title')}</h1>
      <Loaded load={list}>
        {(d) => (
          <DataTable
            caption={t('experiments.list')}
            csvName="experiments.csv"
            rows={d.items}
            rowKey={(x) => x.id}
            columns={[
              { key: 'n', label: t('segments.name'), value: (x) => x.name },
              { key: 'k', label: t('segments.key'), value: (x) => x.key },
              { key: 's', label: t('dsar.status'), value: (x) => x.status },
              { key: 'm', label: t('experiments.mode'), value: (x) => x.mode },
              {
                key: 'v',
                label: t('experiments.variants'),
                value: (x) => x.variants.map((v) => v.key).join(', '),
              },
              {
                key: 'o',
                label: t('experiments.results'),
                value: () => '',
                render: (x) => (
                  <button type="button" aria-pressed={open === x.id} onClick={() => setOpen(x.id)}>
                    {t('experiments.results')} <span className="sr-only">{x.name}</span>
                  </button>
                ),
              },
            ]}
          />
        )}
      </Loaded>
      {open ? (
        <Loaded load={results}>
          {(r) =>
            r ? (
              <div className="card" aria-live="polite">
                <h2>{t('experiments.resultsOf', { key: r.experiment })}</h2>
                <p className="muted">
                  {t('experiments.method', { mode: r.mode, alpha: fmtNumber(locale, r.alpha, 3) })}
                </p>
                {r.srm.mismatch ? (
                  <p className="notice warning">
                    <strong>{t('experiments.srm')}</strong>{' '}
                    {t('experiments.srmHelp', { p: r.srm.pValue.toExponential(2) })}
                  </p>
                ) : (
                  <p>{t('experiments.srmOk', { p: fmtNumber(locale, r.srm.pValue, 3) })}</p>
                )}
                {r.guardrailAlarms.length > 0 ? (
                  <div className="notice warning">
                    <strong>{t('experiments.guardrails')}</strong>
                    <ul>
                      {r.guardrailAlarms.map((g) => (
                        <li key={`${g.metric}-${g.variant}`}>
                          {t('experiments.guardrailLine', {
                            metric: g.metric,
                            variant: g.variant,
                            effect: num(g.effect),
                          })}
                        </li>
                      ))}
                    </ul>
                  </div>
                ) : null}
                {r.warnings.length > 0 ? (
                  <ul className="plain">
                    {r.warnings.map((w) => (
                      <li key={w}>{w}</li>
                    ))}
                  </ul>
                ) : null}
                <DataTable
                  caption={t('experiments.exposures')}
                  rows={Object.entries(r.exposures)}
                  rowKey={([v]) => v}
                  columns={[
                    { key: 'v', label: t('experiments.variant'), value: ([v]) => v },
                    { key: 'n', label: t('experiments.exposed'), value: ([, n]) => n, numeric: true },
                  ]}
                />
                {r.metrics.map((m) => (
                  <ChartFigure
                    key={m.metric}
                    title={t('experiments.metric', { metric: m.metric, role: m.role })}
                    summary={m.variants
                      .map(
                        (v) =>
                          `${v.variant}: ${num(v.effect)} [${num(v.interval[0])}, ${num(v.interval[1])}]`,
                      )
                      .join('; ')}
                    chart={
                      <IntervalChart
                        rows={m.variants.map((v) => ({
                          label: v.variant,
                          effect: v.effect,
                          lo: v.interval[0],
                          hi: v.interval[1],
                        }))}
                      />
                    }
                    table={
                      <DataTable
                        caption={t('experiments.metric', { metric: m.metric, role: m.role })}
                        csvName={`experiment-${r.experiment}-${m.metric}.csv`}
                        rows={m.variants}
                        rowKey={(v) => v.variant}
                        columns={[
                          { key: 'v', label: t('experiments.variant'), value: (v) => v.variant },
                          { key: 'n', label: t('experiments.exposed'), value: (v) => v.n, numeric: true },
                          {
                            key: 'c',
                            label: t('experiments.control'),
                            value: (v) => num(v.controlMean),
                            numeric: true,
                          },
                          {
                            key: 't',
                            label: t('experiments.treatment'),
                            value: (v) => num(v.treatmentMean),
                            numeric: true,
                          },
                          {
                            key: 'e',
                            label: t('experiments.effect'),
                            value: (v) => num(v.effect),
                            numeric: true,
                          },
                          {
                            key: 'i',
                            label: t('experiments.interval'),
                            value: (v) => `[${num(v.interval[0])}, ${num(v.interval[1])}]`,
                          },
                          {
                            key: 'p',
                            label: t('experiments.pValue'),
                            value: (v) => fmtNumber(locale, v.adjustedPValue, 4),
                            numeric: true,
                          },
                          {
                            key: 's',
                            label: t('experiments.significant'),
                            value: (v) => (v.significant ? t('pc.on') : t('pc.off')),
                          },
                        ]}
                      />
                    }
                  />
                ))}
              </div>
            ) : null
          }
        </Loaded>
      ) : null}
    </section>
  );
}

// ---- Loyalty ----------------------------------------------------------------------------------------

type Txn = {
  id: string;
  kind: string;
  points: number;
  status: string;
  reference: string | null;
  reason: string | null;
  expiresAt: number | null;
  createdAt: number;
};

export function LoyaltyPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const [userId, setUserId] = useState('');
  const [account, setAccount] = useState<{ userId: string; balance: number; transactions: Txn[] }>();
  const [error, setError] = useState<unknown>();
  const held = useLoad(() => api.get<{ items: (Txn & { subjectId: string })[] }>('/v1/loyalty/held'), [api]);
  const verify = useLoad(
    () => api.get<{ ok: boolean; imbalance: number; mismatchedAccounts: number }>('/v1/loyalty/verify'),
    [api],
  );
  const show = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      const id = userId.trim();
      const r = await api.get<{ balance: number; transactions: Txn[] }>(
        `/v1/loyalty/accounts/${encodeURIComponent(id)}`,
      );
      setAccount({ userId: id, ...r });
    } catch (err) {
      setAccount(undefined);
      setError(err);
    }
  };
  const txnColumns = [
    { key: 'at', label: t('audit.time'), value: (x: Txn) => fmtDateTime(locale, x.createdAt) },
    { key: 'k', label: t('loyalty.kind'), value: (x: Txn) => x.kind },
    { key: 'p', label: t('loyalty.points'), value: (x: Txn) => x.points, numeric: true },
    { key: 's', label: t('dsar.status'), value: (x: Txn) => x.status },
    { key: 'r', label: t('loyalty.reference'), value: (x: Txn) => x.reference ?? x.reason ?? '—' },
    {
      key: 'e',
      label: t('loyalty.expires'),
      value: (x: Txn) => (x.expiresAt === null ? '—' : fmtDateTime(locale, x.expiresAt)),
    },
  ];
  return (
    <section aria-labelledby="h-loyalty">
      <h1 id="h-loyalty">{t('loyalty.title')}</h1>
      <p className="muted">{t('loyalty.help')}</p>
      <Loaded load={verify}>
        {(v) =>
          v.ok ? (
            <p>{t('loyalty.balanced')}</p>
          ) : (
            <p className="notice warning">
              {t('loyalty.unbalanced', { n: v.mismatchedAccounts, imbalance: v.imbalance })}
            </p>
          )
        }
      </Loaded>
      <form className="inline" onSubmit={(e) => void show(e)}>
        <label>
          {t('loyalty.customer')}
          <input required maxLength={200} value={userId} onChange={(e) => setUserId(e.target.value)} />
        </label>
        <button type="submit" className="primary">
          {t('loyalty.show')}
        </button>
      </form>
      {error ? <ErrorMessage error={error} /> : null}
      {account ? (
        <div className="card" aria-live="polite">
          <h2>{t('loyalty.account', { id: account.userId })}</h2>
          <p className="kpi">
            <span className="kpi-label">{t('loyalty.balance')}</span>{' '}
            <span className="kpi-value">{fmtNumber(locale, account.balance)}</span>
          </p>
          <DataTable
            caption={t('loyalty.ledger')}
            csvName={`loyalty-${account.userId}.csv`}
            rows={account.transactions}
            rowKey={(x) => x.id}
            columns={txnColumns}
          />
        </div>
      ) : null}
      <h2>{t('loyalty.held')}</h2>
      <Loaded load={held}>
        {(h) => (
          <DataTable caption={t('loyalty.held')} rows={h.items} rowKey={(x) => x.id} columns={txnColumns} />
        )}
      </Loaded>
    </section>
  );
}
