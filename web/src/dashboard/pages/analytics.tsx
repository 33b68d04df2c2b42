/**
 * Analytics reports: overview KPIs with period comparison, the funnel builder, site search, cart and
 * abandonment, retention cohorts and reviews. Every chart has its table; every table downloads as CSV.
 * Small groups the server suppressed (k-anonymity) are called out, never silently missing.
 */
import { useState, type FormEvent } from 'react';
import { BarChart, ChartFigure, DataTable, LineChart, heatClass, type Column } from '../../shared/charts.tsx';
import { fmtNumber, fmtPercent } from '../../shared/format.ts';
import { useLoad } from '../../shared/hooks.ts';
import { useI18n, type MessageKey } from '../../shared/i18n.ts';
import { ErrorMessage, Loaded } from '../../shared/ui.tsx';
import { PeriodPicker, periodDays, previousPeriod } from '../period-picker.tsx';
import { usePeriod, useSession } from '../session.ts';

type PrivacyNote = { kAnonymity: number | null; suppressedGroups: number };

function Suppressed(props: { privacy: PrivacyNote }) {
  const { t } = useI18n();
  if (props.privacy.suppressedGroups === 0) return null;
  return (
    <p className="notice suppressed">
      {t('app.suppressed', { n: props.privacy.suppressedGroups, k: props.privacy.kAnonymity ?? '—' })}
    </p>
  );
}

// ---- Overview ---------------------------------------------------------------------------------------

type Figures = {
  sessions: number;
  shoppers: number;
  convertedSessions: number;
  orders: number;
  revenue: number;
  conversionRate: number | null;
  averageOrderValue: number | null;
};
type Overview = {
  current: { totals: Figures; days: (Figures & { day: string })[] };
  comparison: { totals: Figures };
  change: Partial<Record<keyof Figures, number | null>>;
  privacy: PrivacyNote;
};

const KPIS: { key: keyof Figures; label: MessageKey; kind: 'n' | 'pct' | 'money' }[] = [
  { key: 'sessions', label: 'kpi.sessions', kind: 'n' },
  { key: 'shoppers', label: 'kpi.shoppers', kind: 'n' },
  { key: 'orders', label: 'kpi.orders', kind: 'n' },
  { key: 'revenue', label: 'kpi.revenue', kind: 'money' },
  { key: 'conversionRate', label: 'kpi.conversionRate', kind: 'pct' },
  { key: 'averageOrderValue', label: 'kpi.averageOrderValue', kind: 'money' },
];

export function OverviewPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const { period } = usePeriod();
  const prev = previousPeriod(period);
  const load = useLoad(
    () =>
      api.get<Overview>('/v1/analytics/overview', {
        from: period.from,
        to: period.to,
        compareFrom: prev.from,
        compareTo: prev.to,
      }),
    [api, period.from, period.to],
  );
  const fmt = (kind: 'n' | 'pct' | 'money', v: number | null) =>
    kind === 'pct' ? fmtPercent(locale, v) : fmtNumber(locale, v, kind === 'money' ? 2 : 0);
  return (
    <section aria-labelledby="h-overview">
      <h1 id="h-overview">{t('overview.title')}</h1>
      <PeriodPicker />
      <p className="muted">{t('range.compare', { days: periodDays(period) })}</p>
      <Loaded load={load}>
        {(o) => (
          <>
            <ul className="kpis" aria-label={t('overview.title')}>
              {KPIS.map((k) => {
                const change = o.change[k.key] ?? null;
                return (
                  <li key={k.key} className="kpi">
                    <span className="kpi-label">{t(k.label)}</span>
                    <span className="kpi-value">{fmt(k.kind, o.current.totals[k.key])}</span>
                    <span className={`kpi-change ${change === null ? '' : change >= 0 ? 'up' : 'down'}`}>
                      {t('kpi.change', {
                        change:
                          change === null ? '—' : `${change >= 0 ? '+' : ''}${fmtPercent(locale, change)}`,
                      })}
                    </span>
                  </li>
                );
              })}
            </ul>
            <Suppressed privacy={o.privacy} />
            <ChartFigure
              title={t('overview.daily')}
              summary={`${t('kpi.sessions')}: ${fmtNumber(locale, o.current.totals.sessions)}; ${t('kpi.orders')}: ${fmtNumber(locale, o.current.totals.orders)}`}
              chart={
                <LineChart
                  labels={o.current.days.map((d) => d.day.slice(5))}
                  series={[
                    {
                      name: t('kpi.sessions'),
                      values: o.current.days.map((d) => d.sessions),
                      className: 's1',
                    },
                    { name: t('kpi.orders'), values: o.current.days.map((d) => d.orders), className: 's2' },
                  ]}
                />
              }
              table={
                <DataTable
                  caption={t('overview.daily')}
                  csvName="overview.csv"
                  rows={o.current.days}
                  rowKey={(d) => d.day}
                  columns={[
                    { key: 'day', label: t('overview.day'), value: (d) => d.day },
                    { key: 'sessions', label: t('kpi.sessions'), value: (d) => d.sessions, numeric: true },
                    { key: 'shoppers', label: t('kpi.shoppers'), value: (d) => d.shoppers, numeric: true },
                    { key: 'orders', label: t('kpi.orders'), value: (d) => d.orders, numeric: true },
                    {
                      key: 'revenue',
                      label: t('kpi.revenue'),
                      value: (d) => d.revenue,
                      render: (d) => fmtNumber(locale, d.revenue, 2),
                      numeric: true,
                    },
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

// ---- Funnels ----------------------------------------------------------------------------------------

export const EVENT_TYPES = [
  'page_view',
  'product_list_view',
  'product_view',
  'search',
  'search_click',
  'add_to_cart',
  'remove_from_cart',
  'checkout_started',
  'order_completed',
  'review_submitted',
  'product_shared',
] as const;

const BREAKDOWNS = ['device_class', 'country', 'category', 'utm_source'] as const;

type FunnelStep = {
  step: number;
  type: string;
  shoppers: number;
  conversionFromStart: number | null;
  conversionFromPrevious: number | null;
  droppedOff: number;
};
export type FunnelResult = {
  steps: FunnelStep[];
  medianTimeToConvertMs: number | null;
  breakdown: { property: string; groups: { value: string; steps: FunnelStep[] }[] } | null;
  privacy: PrivacyNote;
};

function duration(ms: number | null): string {
  if (ms === null) return '—';
  const m = Math.round(ms / 60_000);
  if (m < 60) return `${m} min`;
  const h = m / 60;
  return h < 48 ? `${h.toFixed(1)} h` : `${(h / 24).toFixed(1)} d`;
}

export function FunnelsPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const { period } = usePeriod();
  const [steps, setSteps] = useState<string[]>(['product_view', 'add_to_cart', 'order_completed']);
  const [windowDays, setWindowDays] = useState(7);
  const [breakdown, setBreakdown] = useState('');
  const [result, setResult] = useState<FunnelResult>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const run = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setResult(
        await api.send<FunnelResult>('POST', '/v1/analytics/funnels', {
          from: period.from,
          to: period.to,
          steps: steps.map((type) => ({ type })),
          windowSeconds: windowDays * 86_400,
          ...(breakdown ? { breakdown } : {}),
        }),
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const stepColumns: Column<FunnelStep>[] = [
    { key: 'step', label: t('funnel.step', { n: '' }).trim(), value: (s) => `${s.step}. ${s.type}` },
    { key: 'shoppers', label: t('funnel.shoppers'), value: (s) => s.shoppers, numeric: true },
    {
      key: 'start',
      label: t('funnel.fromStart'),
      value: (s) => s.conversionFromStart,
      render: (s) => fmtPercent(locale, s.conversionFromStart),
      numeric: true,
    },
    {
      key: 'prev',
      label: t('funnel.fromPrevious'),
      value: (s) => s.conversionFromPrevious,
      render: (s) => fmtPercent(locale, s.conversionFromPrevious),
      numeric: true,
    },
    { key: 'drop', label: t('funnel.droppedOff'), value: (s) => s.droppedOff, numeric: true },
  ];

  return (
    <section aria-labelledby="h-funnel">
      <h1 id="h-funnel">{t('funnel.title')}</h1>
      <PeriodPicker />
      <form className="funnel-builder" onSubmit={(e) => void run(e)}>
        <ol>
          {steps.map((s, i) => (
            <li key={i}>
              <label>
                {t('funnel.event', { n: i + 1 })}
                <select
                  name={`step-${i + 1}`}
                  value={s}
                  onChange={(e) => setSteps(steps.map((x, j) => (j === i ? e.target.value : x)))}
                >
                  {EVENT_TYPES.map((ev) => (
                    <option key={ev} value={ev}>
                      {ev}
                    </option>
                  ))}
                </select>
              </label>
              {steps.length > 2 ? (
                <button
                  type="button"
                  className="link"
                  onClick={() => setSteps(steps.filter((_, j) => j !== i))}
                >
                  {t('funnel.removeStep', { n: i + 1 })}
                </button>
              ) : null}
            </li>
          ))}
        </ol>
        {steps.length < 8 ? (
          <button type="button" onClick={() => setSteps([...steps, 'order_completed'])}>
            {t('funnel.addStep')}
          </button>
        ) : null}
        <label>
          {t('funnel.window')}
          <input
            type="number"
            name="window"
            min={1}
            max={90}
            value={windowDays}
            onChange={(e) => setWindowDays(Math.min(90, Math.max(1, Number(e.target.value) || 1)))}
          />
        </label>
        <label>
          {t('funnel.breakdown')}
          <select name="breakdown" value={breakdown} onChange={(e) => setBreakdown(e.target.value)}>
            <option value="">{t('funnel.noBreakdown')}</option>
            {BREAKDOWNS.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {t('funnel.run')}
        </button>
      </form>
      {error ? <ErrorMessage error={error} /> : null}
      {result ? (
        <div aria-live="polite">
          <Suppressed privacy={result.privacy} />
          <ChartFigure
            title={t('funnel.title')}
            summary={result.steps.map((s) => `${s.type}: ${s.shoppers}`).join(', ')}
            chart={
              <BarChart
                bars={result.steps.map((s) => ({
                  label: `${s.step}. ${s.type}`,
                  value: s.shoppers,
                  text: `${fmtNumber(locale, s.shoppers)} (${fmtPercent(locale, s.conversionFromStart)})`,
                }))}
              />
            }
            table={null}
          />
          <DataTable
            caption={t('funnel.title')}
            csvName="funnel.csv"
            rows={result.steps}
            rowKey={(s) => String(s.step)}
            columns={stepColumns}
          />
          <p>{t('funnel.median', { time: duration(result.medianTimeToConvertMs) })}</p>
          {result.breakdown ? (
            <DataTable
              caption={`${t('funnel.breakdown')}: ${result.breakdown.property}`}
              csvName="funnel-breakdown.csv"
              rows={result.breakdown.groups}
              rowKey={(g) => g.value}
              columns={[
                { key: 'value', label: t('funnel.group'), value: (g) => g.value },
                ...result.steps.map((s, i) => ({
                  key: `s${i}`,
                  label: `${s.step}. ${s.type}`,
                  value: (g: { steps: FunnelStep[] }) => g.steps[i]?.shoppers ?? 0,
                  numeric: true,
                })),
                {
                  key: 'conv',
                  label: t('funnel.fromStart'),
                  value: (g) => g.steps.at(-1)?.conversionFromStart ?? null,
                  render: (g) => fmtPercent(locale, g.steps.at(-1)?.conversionFromStart ?? null),
                  numeric: true,
                },
              ]}
            />
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

// ---- Search -----------------------------------------------------------------------------------------

type QueryRow = {
  query: string;
  searches: number;
  zeroResultSearches: number;
  clickThroughRate: number | null;
  meanClickPosition: number | null;
  searchToCartRate: number | null;
};
type SearchReport = { topQueries: QueryRow[]; zeroResultQueries: QueryRow[]; privacy: PrivacyNote };

export function SearchPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const { period } = usePeriod();
  const load = useLoad(
    () => api.get<SearchReport>('/v1/analytics/search', { from: period.from, to: period.to, limit: 20 }),
    [api, period.from, period.to],
  );
  const columns: Column<QueryRow>[] = [
    { key: 'q', label: t('search.query'), value: (r) => r.query },
    { key: 'n', label: t('search.searches'), value: (r) => r.searches, numeric: true },
    {
      key: 'ctr',
      label: t('search.ctr'),
      value: (r) => r.clickThroughRate,
      render: (r) => fmtPercent(locale, r.clickThroughRate),
      numeric: true,
    },
    {
      key: 'pos',
      label: t('search.position'),
      value: (r) => r.meanClickPosition,
      render: (r) => fmtNumber(locale, r.meanClickPosition, 1),
      numeric: true,
    },
    {
      key: 'cart',
      label: t('search.toCart'),
      value: (r) => r.searchToCartRate,
      render: (r) => fmtPercent(locale, r.searchToCartRate),
      numeric: true,
    },
  ];
  return (
    <section aria-labelledby="h-search">
      <h1 id="h-search">{t('search.title')}</h1>
      <PeriodPicker />
      <Loaded load={load}>
        {(r) => (
          <>
            <Suppressed privacy={r.privacy} />
            <DataTable
              caption={t('search.top')}
              csvName="search-top.csv"
              rows={r.topQueries}
              columns={columns}
            />
            <DataTable
              caption={t('search.zero')}
              csvName="search-zero.csv"
              rows={r.zeroResultQueries}
              columns={columns.slice(0, 2)}
            />
          </>
        )}
      </Loaded>
    </section>
  );
}

// ---- Cart -------------------------------------------------------------------------------------------

type CartReport = {
  carts: number;
  abandonedCarts: number;
  abandonmentRate: number | null;
  abandonedValue: number;
  sizeHistogram: { size: number; carts: number }[];
  products: { productId: string; carts: number; purchasedCarts: number; addToPurchaseRate: number | null }[];
  privacy: PrivacyNote;
};

export function CartPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const { period } = usePeriod();
  const load = useLoad(
    () => api.get<CartReport>('/v1/analytics/cart', { from: period.from, to: period.to, limit: 20 }),
    [api, period.from, period.to],
  );
  return (
    <section aria-labelledby="h-cart">
      <h1 id="h-cart">{t('cart.title')}</h1>
      <PeriodPicker />
      <Loaded load={load}>
        {(c) => (
          <>
            <ul className="kpis">
              <li className="kpi">
                <span className="kpi-label">{t('cart.carts')}</span>
                <span className="kpi-value">{fmtNumber(locale, c.carts)}</span>
              </li>
              <li className="kpi">
                <span className="kpi-label">{t('cart.abandoned')}</span>
                <span className="kpi-value">{fmtNumber(locale, c.abandonedCarts)}</span>
              </li>
              <li className="kpi">
                <span className="kpi-label">{t('cart.abandonmentRate')}</span>
                <span className="kpi-value">{fmtPercent(locale, c.abandonmentRate)}</span>
              </li>
              <li className="kpi">
                <span className="kpi-label">{t('cart.abandonedValue')}</span>
                <span className="kpi-value">{fmtNumber(locale, c.abandonedValue, 2)}</span>
              </li>
            </ul>
            <Suppressed privacy={c.privacy} />
            <ChartFigure
              title={t('cart.sizes')}
              summary={c.sizeHistogram.map((h) => `${h.size}: ${h.carts}`).join(', ')}
              chart={
                <BarChart
                  bars={c.sizeHistogram.map((h) => ({
                    label: String(h.size),
                    value: h.carts,
                    text: fmtNumber(locale, h.carts),
                  }))}
                />
              }
              table={
                <DataTable
                  caption={t('cart.sizes')}
                  csvName="cart-sizes.csv"
                  rows={c.sizeHistogram}
                  columns={[
                    { key: 'size', label: t('cart.size'), value: (h) => h.size, numeric: true },
                    { key: 'carts', label: t('cart.carts'), value: (h) => h.carts, numeric: true },
                  ]}
                />
              }
            />
            <DataTable
              caption={t('cart.products')}
              csvName="cart-products.csv"
              rows={c.products}
              rowKey={(p) => p.productId}
              columns={[
                { key: 'p', label: t('cart.product'), value: (p) => p.productId },
                { key: 'c', label: t('cart.carts'), value: (p) => p.carts, numeric: true },
                {
                  key: 'r',
                  label: t('cart.addToPurchase'),
                  value: (p) => p.addToPurchaseRate,
                  render: (p) => fmtPercent(locale, p.addToPurchaseRate),
                  numeric: true,
                },
              ]}
            />
          </>
        )}
      </Loaded>
    </section>
  );
}

// ---- Retention --------------------------------------------------------------------------------------

type Retention = {
  cohorts: { cohort: string; size: number; returned: (number | null)[]; rates: (number | null)[] }[];
  privacy: PrivacyNote;
};

export function RetentionPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const { period } = usePeriod();
  const [cohortBy, setCohortBy] = useState<'first_visit' | 'first_purchase'>('first_visit');
  const [unit, setUnit] = useState<'week' | 'month'>('week');
  const load = useLoad(
    () =>
      api.get<Retention>('/v1/analytics/retention', {
        from: period.from,
        to: period.to,
        cohortBy,
        period: unit,
        periods: unit === 'week' ? 8 : 6,
      }),
    [api, period.from, period.to, cohortBy, unit],
  );
  return (
    <section aria-labelledby="h-retention">
      <h1 id="h-retention">{t('retention.title')}</h1>
      <PeriodPicker />
      <div className="controls">
        <label>
          {t('retention.by')}
          <select
            value={cohortBy}
            onChange={(e) => setCohortBy(e.target.value as 'first_visit' | 'first_purchase')}
          >
            <option value="first_visit">{t('retention.firstVisit')}</option>
            <option value="first_purchase">{t('retention.firstPurchase')}</option>
          </select>
        </label>
        <label>
          {t('retention.granularity')}
          <select value={unit} onChange={(e) => setUnit(e.target.value as 'week' | 'month')}>
            <option value="week">{t('retention.week')}</option>
            <option value="month">{t('retention.month')}</option>
          </select>
        </label>
      </div>
      <Loaded load={load}>
        {(r) => {
          const n = Math.max(0, ...r.cohorts.map((c) => c.rates.length));
          return (
            <>
              <Suppressed privacy={r.privacy} />
              {/* The heat map is a table: each cell's shade repeats the percentage printed in it. */}
              <DataTable
                caption={t('retention.title')}
                csvName="retention.csv"
                rows={r.cohorts}
                rowKey={(c) => c.cohort}
                columns={[
                  { key: 'cohort', label: t('retention.cohort'), value: (c) => c.cohort },
                  { key: 'size', label: t('retention.size'), value: (c) => c.size, numeric: true },
                  ...Array.from({ length: n }, (_, i) => ({
                    key: `p${i}`,
                    label: t('retention.period', { n: i }),
                    value: (c: Retention['cohorts'][number]) => c.rates[i] ?? null,
                    render: (c: Retention['cohorts'][number]) => (
                      <span className={`heat ${heatClass(c.rates[i] ?? null)}`}>
                        {fmtPercent(locale, c.rates[i] ?? null, 0)}
                      </span>
                    ),
                    numeric: true,
                  })),
                ]}
              />
            </>
          );
        }}
      </Loaded>
    </section>
  );
}

// ---- Reviews ----------------------------------------------------------------------------------------

type Reviews = {
  reviews: number;
  meanRating: number | null;
  counts: Record<string, number>;
  products: { productId: string; reviews: number; meanRating: number | null }[];
  privacy: PrivacyNote;
};

export function ReviewsPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const { period } = usePeriod();
  const load = useLoad(
    () => api.get<Reviews>('/v1/analytics/reviews', { from: period.from, to: period.to }),
    [api, period.from, period.to],
  );
  return (
    <section aria-labelledby="h-reviews">
      <h1 id="h-reviews">{t('reviews.title')}</h1>
      <PeriodPicker />
      <Loaded load={load}>
        {(r) => {
          const dist = ['5', '4', '3', '2', '1'].map((k) => ({ rating: k, n: r.counts[k] ?? 0 }));
          return (
            <>
              <p>
                {t('reviews.count')}: {fmtNumber(locale, r.reviews)} · {t('reviews.mean')}:{' '}
                {fmtNumber(locale, r.meanRating, 2)}
              </p>
              <Suppressed privacy={r.privacy} />
              <ChartFigure
                title={t('reviews.rating')}
                summary={dist.map((d) => `${d.rating}★: ${d.n}`).join(', ')}
                chart={
                  <BarChart
                    bars={dist.map((d) => ({ label: `${d.rating} ★`, value: d.n, text: String(d.n) }))}
                  />
                }
                table={
                  <DataTable
                    caption={t('reviews.rating')}
                    rows={dist}
                    columns={[
                      { key: 'r', label: t('reviews.rating'), value: (d) => d.rating },
                      { key: 'n', label: t('reviews.count'), value: (d) => d.n, numeric: true },
                    ]}
                  />
                }
              />
              <DataTable
                caption={t('cart.product')}
                csvName="reviews.csv"
                rows={r.products}
                rowKey={(p) => p.productId}
                columns={[
                  { key: 'p', label: t('cart.product'), value: (p) => p.productId },
                  { key: 'n', label: t('reviews.count'), value: (p) => p.reviews, numeric: true },
                  {
                    key: 'm',
                    label: t('reviews.mean'),
                    value: (p) => p.meanRating,
                    render: (p) => fmtNumber(locale, p.meanRating, 2),
                    numeric: true,
                  },
                ]}
              />
            </>
          );
        }}
      </Loaded>
    </section>
  );
}
