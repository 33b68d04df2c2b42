/**
 * More analytics reports: paths (next/previous steps from an anchor and browse depth), dwell (engaged time
 * and scroll per page, product or category), demographics (declared, consented traits; small groups are
 * hidden by the server and called out here) and demand forecasts with prediction intervals and the
 * chosen model's backtest errors beside the seasonal-naive baseline. Every chart has its table and CSV.
 */
import { useState } from 'react';
import { BarChart, ChartFigure, DataTable, LineChart, type Column } from '../../shared/charts.tsx';
import { fmtNumber, fmtPercent } from '../../shared/format.ts';
import { useLoad } from '../../shared/hooks.ts';
import { useI18n } from '../../shared/i18n.ts';
import { Loaded } from '../../shared/ui.tsx';
import { PeriodPicker } from '../period-picker.tsx';
import { usePeriod, useSession } from '../session.ts';
import { EVENT_TYPES } from './analytics.tsx';

export type PrivacyNote = { kAnonymity: number | null; suppressedGroups: number };

/** Says, where everyone can see it, that groups were left out to protect small groups of shoppers. */
export function HiddenGroups(props: { privacy: PrivacyNote | undefined }) {
  const { t } = useI18n();
  const p = props.privacy;
  if (!p || p.suppressedGroups === 0) return null;
  return (
    <p className="notice suppressed">
      <span className="hidden-group">{t('insights.hiddenMark')}</span>{' '}
      {t('app.suppressed', { n: p.suppressedGroups, k: p.kAnonymity ?? '—' })}
    </p>
  );
}

const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 100) / 10);

// ---- Paths ------------------------------------------------------------------------------------------

type Step = { step: string; count: number; shoppers: number };
type Paths = {
  anchors: number;
  steps: Step[];
  paths: { steps: string[]; count: number; shoppers: number }[];
  privacy?: PrivacyNote;
};
type BrowseDepth = {
  sessions: number;
  meanDepth: number | null;
  medianDepth: number | null;
  histogram: { depth: number; sessions: number; shoppers: number }[];
  privacy?: PrivacyNote;
};

export function PathsPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const { period } = usePeriod();
  const [anchor, setAnchor] = useState('product_view');
  const [page, setPage] = useState('');
  const [direction, setDirection] = useState<'next' | 'previous'>('next');
  const [depth, setDepth] = useState(3);
  const paths = useLoad(
    () =>
      api.get<Paths>('/v1/analytics/paths', {
        from: period.from,
        to: period.to,
        ...(page.trim() ? { path: page.trim() } : { type: anchor }),
        direction,
        depth,
        limit: 20,
      }),
    [api, period.from, period.to, anchor, page, direction, depth],
  );
  const browse = useLoad(
    () => api.get<BrowseDepth>('/v1/analytics/browse-depth', { from: period.from, to: period.to }),
    [api, period.from, period.to],
  );
  return (
    <section aria-labelledby="h-paths">
      <h1 id="h-paths">{t('paths.title')}</h1>
      <PeriodPicker />
      <div className="controls">
        <label>
          {t('paths.anchor')}
          <select value={anchor} onChange={(e) => setAnchor(e.target.value)} disabled={page.trim() !== ''}>
            {EVENT_TYPES.map((ev) => (
              <option key={ev} value={ev}>
                {ev}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('paths.page')}
          <input
            type="text"
            value={page}
            placeholder="/cart"
            onChange={(e) => setPage(e.target.value)}
            maxLength={2000}
          />
        </label>
        <label>
          {t('paths.direction')}
          <select value={direction} onChange={(e) => setDirection(e.target.value as 'next' | 'previous')}>
            <option value="next">{t('paths.next')}</option>
            <option value="previous">{t('paths.previous')}</option>
          </select>
        </label>
        <label>
          {t('paths.depth')}
          <select value={depth} onChange={(e) => setDepth(Number(e.target.value))}>
            {[1, 2, 3, 4, 5].map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Loaded load={paths}>
        {(p) => (
          <>
            <p>{t('paths.anchors', { n: fmtNumber(locale, p.anchors) })}</p>
            <HiddenGroups privacy={p.privacy} />
            <ChartFigure
              title={direction === 'next' ? t('paths.nextSteps') : t('paths.previousSteps')}
              summary={p.steps
                .slice(0, 5)
                .map((s) => `${s.step}: ${s.count}`)
                .join(', ')}
              chart={
                <BarChart
                  bars={p.steps.slice(0, 12).map((s) => ({
                    label: s.step,
                    value: s.count,
                    text: fmtNumber(locale, s.count),
                  }))}
                />
              }
              table={
                <DataTable
                  caption={direction === 'next' ? t('paths.nextSteps') : t('paths.previousSteps')}
                  csvName="path-steps.csv"
                  rows={p.steps}
                  rowKey={(s) => s.step}
                  columns={[
                    { key: 's', label: t('paths.step'), value: (s) => s.step },
                    { key: 'c', label: t('paths.count'), value: (s) => s.count, numeric: true },
                    { key: 'u', label: t('kpi.shoppers'), value: (s) => s.shoppers, numeric: true },
                  ]}
                />
              }
            />
            <DataTable
              caption={t('paths.topPaths')}
              csvName="paths.csv"
              rows={p.paths}
              rowKey={(r) => r.steps.join('>')}
              columns={[
                { key: 'p', label: t('paths.path'), value: (r) => r.steps.join(' → ') },
                { key: 'c', label: t('paths.count'), value: (r) => r.count, numeric: true },
                { key: 'u', label: t('kpi.shoppers'), value: (r) => r.shoppers, numeric: true },
              ]}
            />
          </>
        )}
      </Loaded>
      <h2>{t('paths.browseDepth')}</h2>
      <Loaded load={browse}>
        {(b) => (
          <>
            <p>
              {t('paths.depthSummary', {
                sessions: fmtNumber(locale, b.sessions),
                mean: fmtNumber(locale, b.meanDepth, 1),
                median: fmtNumber(locale, b.medianDepth, 1),
              })}
            </p>
            <HiddenGroups privacy={b.privacy} />
            <ChartFigure
              title={t('paths.browseDepth')}
              summary={t('paths.depthSummary', {
                sessions: b.sessions,
                mean: fmtNumber(locale, b.meanDepth, 1),
                median: fmtNumber(locale, b.medianDepth, 1),
              })}
              chart={
                <BarChart
                  bars={b.histogram.slice(0, 20).map((h) => ({
                    label: String(h.depth),
                    value: h.sessions,
                    text: fmtNumber(locale, h.sessions),
                  }))}
                />
              }
              table={
                <DataTable
                  caption={t('paths.browseDepth')}
                  csvName="browse-depth.csv"
                  rows={b.histogram}
                  rowKey={(h) => String(h.depth)}
                  columns={[
                    { key: 'd', label: t('paths.pages'), value: (h) => h.depth, numeric: true },
                    { key: 's', label: t('kpi.sessions'), value: (h) => h.sessions, numeric: true },
                    { key: 'u', label: t('kpi.shoppers'), value: (h) => h.shoppers, numeric: true },
                  ]}
                />
              }
            />
          </>
        )}
      </Loaded>
    </section>
  );
}

// ---- Dwell ------------------------------------------------------------------------------------------

type DwellRow = {
  key: string;
  leaves: number;
  shoppers: number;
  meanEngagedMs: number | null;
  medianEngagedMs: number | null;
  totalEngagedMs: number;
  meanScrollDepth: number | null;
};
type Dwell = { by: string; rows: DwellRow[]; privacy?: PrivacyNote };

export function DwellPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const { period } = usePeriod();
  const [by, setBy] = useState<'path' | 'product_id' | 'category'>('path');
  const load = useLoad(
    () => api.get<Dwell>('/v1/analytics/dwell', { from: period.from, to: period.to, by, limit: 50 }),
    [api, period.from, period.to, by],
  );
  const columns: Column<DwellRow>[] = [
    { key: 'k', label: t(`dwell.by.${by}`), value: (r) => r.key },
    { key: 'l', label: t('dwell.leaves'), value: (r) => r.leaves, numeric: true },
    { key: 'u', label: t('kpi.shoppers'), value: (r) => r.shoppers, numeric: true },
    {
      key: 'mean',
      label: t('dwell.meanSeconds'),
      value: (r) => seconds(r.meanEngagedMs),
      render: (r) => fmtNumber(locale, seconds(r.meanEngagedMs), 1),
      numeric: true,
    },
    {
      key: 'median',
      label: t('dwell.medianSeconds'),
      value: (r) => seconds(r.medianEngagedMs),
      render: (r) => fmtNumber(locale, seconds(r.medianEngagedMs), 1),
      numeric: true,
    },
    {
      key: 'scroll',
      label: t('dwell.scroll'),
      value: (r) => r.meanScrollDepth,
      render: (r) => (r.meanScrollDepth === null ? '—' : fmtPercent(locale, r.meanScrollDepth / 100, 0)),
      numeric: true,
    },
  ];
  return (
    <section aria-labelledby="h-dwell">
      <h1 id="h-dwell">{t('dwell.title')}</h1>
      <PeriodPicker />
      <div className="controls">
        <label>
          {t('dwell.group')}
          <select value={by} onChange={(e) => setBy(e.target.value as typeof by)}>
            <option value="path">{t('dwell.by.path')}</option>
            <option value="product_id">{t('dwell.by.product_id')}</option>
            <option value="category">{t('dwell.by.category')}</option>
          </select>
        </label>
      </div>
      <Loaded load={load}>
        {(d) => (
          <>
            <HiddenGroups privacy={d.privacy} />
            <ChartFigure
              title={t('dwell.meanSeconds')}
              summary={d.rows
                .slice(0, 5)
                .map((r) => `${r.key}: ${fmtNumber(locale, seconds(r.meanEngagedMs), 1)} s`)
                .join(', ')}
              chart={
                <BarChart
                  bars={d.rows.slice(0, 12).map((r) => ({
                    label: r.key,
                    value: r.meanEngagedMs ?? 0,
                    text: `${fmtNumber(locale, seconds(r.meanEngagedMs), 1)} s`,
                  }))}
                />
              }
              table={null}
            />
            <DataTable
              caption={t('dwell.title')}
              csvName={`dwell-${by}.csv`}
              rows={d.rows}
              rowKey={(r) => r.key}
              columns={columns}
            />
          </>
        )}
      </Loaded>
    </section>
  );
}

// ---- Demographics -----------------------------------------------------------------------------------

type Group = { value: string; shoppers: number; buyers: number; conversionRate: number | null };
type Demographics = {
  shoppers: number;
  declared: number;
  ageBand: Group[];
  gender: Group[];
  region: Group[];
  privacy?: PrivacyNote;
};

export function DemographicsPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const { period } = usePeriod();
  const load = useLoad(
    () => api.get<Demographics>('/v1/analytics/demographics', { from: period.from, to: period.to }),
    [api, period.from, period.to],
  );
  return (
    <section aria-labelledby="h-demo">
      <h1 id="h-demo">{t('demographics.title')}</h1>
      <p className="muted">{t('demographics.help')}</p>
      <PeriodPicker />
      <Loaded load={load}>
        {(d) => (
          <>
            <ul className="kpis">
              <li className="kpi">
                <span className="kpi-label">{t('demographics.active')}</span>
                <span className="kpi-value">{fmtNumber(locale, d.shoppers)}</span>
              </li>
              <li className="kpi">
                <span className="kpi-label">{t('demographics.declared')}</span>
                <span className="kpi-value">{fmtNumber(locale, d.declared)}</span>
              </li>
            </ul>
            <HiddenGroups privacy={d.privacy} />
            {(['ageBand', 'gender', 'region'] as const).map((dim) => (
              <ChartFigure
                key={dim}
                title={t(`demographics.${dim}`)}
                summary={d[dim].map((g) => `${g.value}: ${g.shoppers}`).join(', ') || t('app.none')}
                chart={
                  d[dim].length === 0 ? (
                    <p className="muted">{t('app.none')}</p>
                  ) : (
                    <BarChart
                      bars={d[dim].map((g) => ({
                        label: g.value,
                        value: g.shoppers,
                        text: `${fmtNumber(locale, g.shoppers)} (${fmtPercent(locale, g.conversionRate)})`,
                      }))}
                    />
                  )
                }
                table={
                  <DataTable
                    caption={t(`demographics.${dim}`)}
                    csvName={`demographics-${dim}.csv`}
                    rows={d[dim]}
                    rowKey={(g) => g.value}
                    columns={[
                      { key: 'v', label: t('funnel.group'), value: (g) => g.value },
                      { key: 's', label: t('kpi.shoppers'), value: (g) => g.shoppers, numeric: true },
                      { key: 'b', label: t('demographics.buyers'), value: (g) => g.buyers, numeric: true },
                      {
                        key: 'c',
                        label: t('kpi.conversionRate'),
                        value: (g) => g.conversionRate,
                        render: (g) => fmtPercent(locale, g.conversionRate),
                        numeric: true,
                      },
                    ]}
                  />
                }
              />
            ))}
          </>
        )}
      </Loaded>
    </section>
  );
}

// ---- Forecasts --------------------------------------------------------------------------------------

type Point = {
  step: number;
  value: number;
  lower80: number;
  upper80: number;
  lower95: number;
  upper95: number;
};
type Errors = { mase: number | null; smape: number | null };
type ForecastSeries = {
  key: string;
  units: number;
  shoppers: number;
  forecastDays: string[];
  model: string;
  errors: Errors;
  baseline: Errors;
  folds: number;
  points: Point[];
};
type Forecast = {
  level: string;
  horizon: number;
  history: { from: string; to: string; days: number };
  series: ForecastSeries[];
  privacy?: PrivacyNote;
};

export function ForecastsPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const [level, setLevel] = useState<'product' | 'category'>('category');
  const [horizon, setHorizon] = useState<'14' | '28'>('14');
  const [chosen, setChosen] = useState<string>();
  const load = useLoad(
    () => api.get<Forecast>('/v1/analytics/forecasts', { level, horizon, limit: 20 }),
    [api, level, horizon],
  );
  const err = (v: number | null) => fmtNumber(locale, v, 2);
  return (
    <section aria-labelledby="h-forecast">
      <h1 id="h-forecast">{t('forecast.title')}</h1>
      <p className="muted">{t('forecast.help')}</p>
      <div className="controls">
        <label>
          {t('forecast.level')}
          <select value={level} onChange={(e) => setLevel(e.target.value as typeof level)}>
            <option value="category">{t('forecast.category')}</option>
            <option value="product">{t('forecast.product')}</option>
          </select>
        </label>
        <label>
          {t('forecast.horizon')}
          <select value={horizon} onChange={(e) => setHorizon(e.target.value as typeof horizon)}>
            <option value="14">{t('forecast.days', { n: 14 })}</option>
            <option value="28">{t('forecast.days', { n: 28 })}</option>
          </select>
        </label>
      </div>
      <Loaded load={load}>
        {(f) => {
          const s = f.series.find((x) => x.key === chosen) ?? f.series[0];
          return (
            <>
              <p className="muted">
                {t('forecast.history', { from: f.history.from, to: f.history.to, days: f.history.days })}
              </p>
              <HiddenGroups privacy={f.privacy} />
              <DataTable
                caption={t('forecast.models')}
                csvName={`forecast-models-${level}.csv`}
                rows={f.series}
                rowKey={(x) => x.key}
                columns={[
                  { key: 'k', label: t(`forecast.${level}`), value: (x) => x.key },
                  { key: 'm', label: t('forecast.model'), value: (x) => x.model },
                  {
                    key: 'total',
                    label: t('forecast.total'),
                    value: (x) => Math.round(x.points.reduce((a, p) => a + p.value, 0) * 10) / 10,
                    numeric: true,
                  },
                  {
                    key: 'mase',
                    label: t('forecast.mase'),
                    value: (x) => x.errors.mase,
                    render: (x) => err(x.errors.mase),
                    numeric: true,
                  },
                  {
                    key: 'bmase',
                    label: t('forecast.baselineMase'),
                    value: (x) => x.baseline.mase,
                    render: (x) => err(x.baseline.mase),
                    numeric: true,
                  },
                  {
                    key: 'smape',
                    label: t('forecast.smape'),
                    value: (x) => x.errors.smape,
                    render: (x) => err(x.errors.smape),
                    numeric: true,
                  },
                  {
                    key: 'bsmape',
                    label: t('forecast.baselineSmape'),
                    value: (x) => x.baseline.smape,
                    render: (x) => err(x.baseline.smape),
                    numeric: true,
                  },
                  { key: 'folds', label: t('forecast.folds'), value: (x) => x.folds, numeric: true },
                  {
                    key: 'show',
                    label: t('forecast.show'),
                    value: () => '',
                    render: (x) => (
                      <button type="button" aria-pressed={x.key === s?.key} onClick={() => setChosen(x.key)}>
                        {t('forecast.show')} <span className="sr-only">{x.key}</span>
                      </button>
                    ),
                  },
                ]}
              />
              {s ? (
                <ChartFigure
                  title={t('forecast.chart', { key: s.key })}
                  summary={t('forecast.summary', {
                    key: s.key,
                    total: fmtNumber(
                      locale,
                      s.points.reduce((a, p) => a + p.value, 0),
                      1,
                    ),
                    days: s.points.length,
                  })}
                  chart={
                    <LineChart
                      labels={s.forecastDays.map((d) => d.slice(5))}
                      series={[
                        { name: t('forecast.value'), values: s.points.map((p) => p.value), className: 's1' },
                        {
                          name: t('forecast.upper95'),
                          values: s.points.map((p) => p.upper95),
                          className: 's2',
                        },
                        {
                          name: t('forecast.lower95'),
                          values: s.points.map((p) => p.lower95),
                          className: 's3',
                        },
                      ]}
                    />
                  }
                  table={
                    <DataTable
                      caption={t('forecast.chart', { key: s.key })}
                      csvName={`forecast-${s.key.replaceAll('/', '_')}.csv`}
                      rows={s.points}
                      rowKey={(p) => String(p.step)}
                      columns={[
                        {
                          key: 'd',
                          label: t('overview.day'),
                          value: (p) => s.forecastDays[p.step - 1] ?? '',
                        },
                        { key: 'v', label: t('forecast.value'), value: (p) => p.value, numeric: true },
                        { key: 'l80', label: t('forecast.lower80'), value: (p) => p.lower80, numeric: true },
                        { key: 'u80', label: t('forecast.upper80'), value: (p) => p.upper80, numeric: true },
                        { key: 'l95', label: t('forecast.lower95'), value: (p) => p.lower95, numeric: true },
                        { key: 'u95', label: t('forecast.upper95'), value: (p) => p.upper95, numeric: true },
                      ]}
                    />
                  }
                />
              ) : null}
            </>
          );
        }}
      </Loaded>
    </section>
  );
}
