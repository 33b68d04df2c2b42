/**
 * Operations tools beside the queues: the fraud rule editor with a dry run over recent scored orders
 * (next to the review queue), conversation analytics with CSAT and FAQ gaps (next to the inbox), and
 * consent statistics: opt-in rate per purpose over time, GPC share and withdrawals (k-anonymous groups).
 */
import { useState } from 'react';
import { ChartFigure, DataTable, LineChart } from '../../shared/charts.tsx';
import { fmtNumber, fmtPercent } from '../../shared/format.ts';
import { useLoad } from '../../shared/hooks.ts';
import { useI18n, type MessageKey } from '../../shared/i18n.ts';
import { ErrorMessage, Loaded, Status } from '../../shared/ui.tsx';
import { PeriodPicker } from '../period-picker.tsx';
import { usePeriod, useSession } from '../session.ts';
import { HiddenGroups } from './insights.tsx';

// ---- Fraud rules ------------------------------------------------------------------------------------

type Rule = {
  id: string;
  name: string;
  expression: string;
  action: (typeof ACTIONS)[number];
  points?: number;
  enabled: boolean;
};
type RuleSet = { version: number; rules: Rule[] };
type DryRun = {
  evaluated: number;
  decisions: { before: Record<string, number>; after: Record<string, number> };
  rules: { id: string; matches: number; labelledFraud: number; labelledLegit: number }[];
  changed: { orderId: string; before: string; after: string; score: number }[];
};
const ACTIONS = ['decline', 'review', 'approve', 'score'] as const;

function RulesEditor(props: { initial: RuleSet; onSaved: () => void }) {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const [rules, setRules] = useState<Rule[]>(props.initial.rules);
  const [dry, setDry] = useState<DryRun>();
  const [error, setError] = useState<unknown>();
  const [message, setMessage] = useState<string>();
  const [busy, setBusy] = useState(false);
  const set = (i: number, patch: Partial<Rule>) =>
    setRules(rules.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const clean = () =>
    rules.map((r) => {
      const { points, ...rest } = r;
      return r.action === 'score' ? { ...rest, points: points ?? 0 } : rest;
    });
  const run = async (what: 'dry' | 'save') => {
    setBusy(true);
    setError(undefined);
    setMessage(undefined);
    try {
      if (what === 'dry')
        setDry(await api.send<DryRun>('POST', '/v1/fraud/rules/dry-run', { rules: clean() }));
      else {
        const saved = await api.send<RuleSet>('PUT', '/v1/fraud/rules', { rules: clean() });
        setMessage(t('fraudRules.saved', { version: saved.version }));
        props.onSaved();
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const decisions = dry
    ? [...new Set([...Object.keys(dry.decisions.before), ...Object.keys(dry.decisions.after)])].map((d) => ({
        decision: d,
        before: dry.decisions.before[d] ?? 0,
        after: dry.decisions.after[d] ?? 0,
      }))
    : [];
  return (
    <>
      {message ? <Status>{message}</Status> : null}
      {error ? <ErrorMessage error={error} /> : null}
      <ol className="rule-list editor">
        {rules.map((r, i) => (
          <li key={i}>
            <div className="controls">
              <label>
                {t('fraudRules.id')}
                <input
                  value={r.id}
                  required
                  pattern="[a-z0-9][a-z0-9_\-]{0,63}"
                  onChange={(e) => set(i, { id: e.target.value })}
                />
              </label>
              <label>
                {t('fraudRules.name')}
                <input value={r.name} maxLength={200} onChange={(e) => set(i, { name: e.target.value })} />
              </label>
              <label>
                {t('fraudRules.action')}
                <select
                  value={r.action}
                  onChange={(e) => set(i, { action: e.target.value as Rule['action'] })}
                >
                  {ACTIONS.map((a) => (
                    <option key={a} value={a}>
                      {t(`fraudRules.action.${a}`)}
                    </option>
                  ))}
                </select>
              </label>
              {r.action === 'score' ? (
                <label>
                  {t('fraudRules.points')}
                  <input
                    type="number"
                    min={-100}
                    max={100}
                    value={r.points ?? 0}
                    onChange={(e) => set(i, { points: Number(e.target.value) })}
                  />
                </label>
              ) : null}
              <label>
                <input
                  type="checkbox"
                  checked={r.enabled}
                  onChange={(e) => set(i, { enabled: e.target.checked })}
                />{' '}
                {t('fraudRules.enabled')}
              </label>
              <button
                type="button"
                className="link"
                onClick={() => setRules(rules.filter((_, j) => j !== i))}
              >
                {t('fraudRules.remove', { id: r.id })}
              </button>
            </div>
            <label>
              {t('fraudRules.expression', { id: r.id })}
              <textarea
                rows={2}
                value={r.expression}
                maxLength={2000}
                onChange={(e) => set(i, { expression: e.target.value })}
              />
            </label>
          </li>
        ))}
      </ol>
      <div className="row-actions">
        <button
          type="button"
          onClick={() =>
            setRules([
              ...rules,
              { id: `rule-${rules.length + 1}`, name: '', expression: '', action: 'review', enabled: true },
            ])
          }
        >
          {t('fraudRules.add')}
        </button>
        <button type="button" className="primary" disabled={busy} onClick={() => void run('dry')}>
          {t('fraudRules.dryRun')}
        </button>
        <button type="button" disabled={busy || !dry} onClick={() => void run('save')}>
          {t('fraudRules.save')}
        </button>
      </div>
      {!dry ? <p className="muted">{t('fraudRules.dryFirst')}</p> : null}
      {dry ? (
        <div aria-live="polite">
          <h2>{t('fraudRules.dryResult', { n: fmtNumber(locale, dry.evaluated) })}</h2>
          <DataTable
            caption={t('fraudRules.decisions')}
            csvName="fraud-dry-run-decisions.csv"
            rows={decisions}
            rowKey={(d) => d.decision}
            columns={[
              { key: 'd', label: t('fraudRules.decision'), value: (d) => d.decision },
              { key: 'b', label: t('fraudRules.before'), value: (d) => d.before, numeric: true },
              { key: 'a', label: t('fraudRules.after'), value: (d) => d.after, numeric: true },
            ]}
          />
          <DataTable
            caption={t('fraudRules.perRule')}
            csvName="fraud-dry-run-rules.csv"
            rows={dry.rules}
            rowKey={(r) => r.id}
            columns={[
              { key: 'id', label: t('fraudRules.id'), value: (r) => r.id },
              { key: 'm', label: t('fraudRules.matches'), value: (r) => r.matches, numeric: true },
              {
                key: 'f',
                label: t('fraudRules.labelledFraud'),
                value: (r) => r.labelledFraud,
                numeric: true,
              },
              {
                key: 'l',
                label: t('fraudRules.labelledLegit'),
                value: (r) => r.labelledLegit,
                numeric: true,
              },
            ]}
          />
          <DataTable
            caption={t('fraudRules.changed')}
            csvName="fraud-dry-run-changed.csv"
            rows={dry.changed}
            rowKey={(c) => c.orderId}
            columns={[
              { key: 'o', label: t('fraud.order'), value: (c) => c.orderId },
              { key: 'b', label: t('fraudRules.before'), value: (c) => c.before },
              { key: 'a', label: t('fraudRules.after'), value: (c) => c.after },
              { key: 's', label: t('fraud.score'), value: (c) => c.score, numeric: true },
            ]}
          />
        </div>
      ) : null}
    </>
  );
}

export function FraudRulesPage() {
  const { t } = useI18n();
  const { api } = useSession();
  const rules = useLoad(() => api.get<RuleSet>('/v1/fraud/rules'), [api]);
  const features = useLoad(
    () => api.get<{ features: { name: string; type: string }[] }>('/v1/fraud/features'),
    [api],
  );
  return (
    <section aria-labelledby="h-fraud-rules">
      <h1 id="h-fraud-rules">{t('fraudRules.title')}</h1>
      <p className="muted">{t('fraudRules.help')}</p>
      <Loaded load={rules}>
        {(r) => (
          <>
            <p>{t('fraudRules.version', { version: r.version })}</p>
            <RulesEditor key={r.version} initial={r} onSaved={rules.reload} />
          </>
        )}
      </Loaded>
      <details>
        <summary>{t('fraudRules.features')}</summary>
        <Loaded load={features}>
          {(f) => (
            <DataTable
              caption={t('fraudRules.features')}
              rows={f.features}
              rowKey={(x) => x.name}
              columns={[
                { key: 'n', label: t('fraudRules.feature'), value: (x) => x.name },
                { key: 't', label: t('fraudRules.type'), value: (x) => x.type },
              ]}
            />
          )}
        </Loaded>
      </details>
    </section>
  );
}

// ---- Conversation analytics -------------------------------------------------------------------------

type ChatAnalytics = {
  days: number;
  conversations: number;
  shopperMessages: number;
  messagesByDay: Record<string, number>;
  intents: Record<string, number>;
  containmentRate: number | null;
  handoffRate: number | null;
  handoffReasons: Record<string, number>;
  csat: { up: number; down: number; score: number | null };
  faqGaps: { keywords: string; count: number }[];
};

export function ChatAnalyticsPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const [days, setDays] = useState(30);
  const load = useLoad(() => api.get<ChatAnalytics>('/v1/chat/analytics', { days }), [api, days]);
  const counts = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, n]) => ({ k, n }))
      .sort((a, b) => b.n - a.n);
  return (
    <section aria-labelledby="h-chat-analytics">
      <h1 id="h-chat-analytics">{t('chatStats.title')}</h1>
      <div className="controls">
        <label>
          {t('chatStats.days')}
          <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {[7, 30, 90].map((d) => (
              <option key={d} value={d}>
                {t('forecast.days', { n: d })}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Loaded load={load}>
        {(a) => {
          const byDay = Object.entries(a.messagesByDay).sort(([x], [y]) => (x < y ? -1 : 1));
          return (
            <>
              <ul className="kpis">
                <li className="kpi">
                  <span className="kpi-label">{t('chatStats.conversations')}</span>
                  <span className="kpi-value">{fmtNumber(locale, a.conversations)}</span>
                </li>
                <li className="kpi">
                  <span className="kpi-label">{t('chatStats.containment')}</span>
                  <span className="kpi-value">{fmtPercent(locale, a.containmentRate)}</span>
                </li>
                <li className="kpi">
                  <span className="kpi-label">{t('chatStats.handoff')}</span>
                  <span className="kpi-value">{fmtPercent(locale, a.handoffRate)}</span>
                </li>
                <li className="kpi">
                  <span className="kpi-label">{t('chatStats.csat')}</span>
                  <span className="kpi-value">{fmtPercent(locale, a.csat.score)}</span>
                  <span className="kpi-change">
                    {t('chatStats.csatVotes', { up: a.csat.up, down: a.csat.down })}
                  </span>
                </li>
              </ul>
              <ChartFigure
                title={t('chatStats.messages')}
                summary={t('chatStats.messagesSummary', { n: a.shopperMessages, days: a.days })}
                chart={
                  <LineChart
                    labels={byDay.map(([d]) => d.slice(5))}
                    series={[
                      { name: t('chatStats.messages'), values: byDay.map(([, n]) => n), className: 's1' },
                    ]}
                  />
                }
                table={
                  <DataTable
                    caption={t('chatStats.messages')}
                    csvName="chat-messages.csv"
                    rows={byDay}
                    rowKey={([d]) => d}
                    columns={[
                      { key: 'd', label: t('overview.day'), value: ([d]) => d },
                      { key: 'n', label: t('chatStats.messages'), value: ([, n]) => n, numeric: true },
                    ]}
                  />
                }
              />
              <DataTable
                caption={t('chatStats.faqGaps')}
                csvName="faq-gaps.csv"
                rows={a.faqGaps}
                rowKey={(g) => g.keywords}
                columns={[
                  { key: 'k', label: t('chatStats.keywords'), value: (g) => g.keywords },
                  { key: 'n', label: t('chatStats.asked'), value: (g) => g.count, numeric: true },
                ]}
              />
              <p className="muted">{t('chatStats.faqHelp')}</p>
              <DataTable
                caption={t('chatStats.intents')}
                csvName="chat-intents.csv"
                rows={counts(a.intents)}
                rowKey={(r) => r.k}
                columns={[
                  { key: 'k', label: t('chatStats.intent'), value: (r) => r.k },
                  { key: 'n', label: t('chatStats.asked'), value: (r) => r.n, numeric: true },
                ]}
              />
              <DataTable
                caption={t('chatStats.reasons')}
                csvName="chat-handoff-reasons.csv"
                rows={counts(a.handoffReasons)}
                rowKey={(r) => r.k}
                columns={[
                  { key: 'k', label: t('inbox.reason'), value: (r) => r.k },
                  { key: 'n', label: t('chatStats.conversations'), value: (r) => r.n, numeric: true },
                ]}
              />
            </>
          );
        }}
      </Loaded>
    </section>
  );
}

// ---- Consent statistics -----------------------------------------------------------------------------

type PurposeFigures = {
  purpose: string;
  granted: number | null;
  refused: number | null;
  optInRate: number | null;
  withdrawals: number | null;
  suppressed: boolean;
};
type Group = {
  subjects: number | null;
  gpcSubjects: number | null;
  gpcShare: number | null;
  withdrawals: number | null;
  decisions: number | null;
  purposes: PurposeFigures[];
  suppressed: boolean;
};
type ConsentStats = {
  from: string;
  to: string;
  period: 'day' | 'week';
  totals: Group;
  series: (Group & { start: string })[];
  privacy: { kAnonymity: number; suppressedGroups: number };
};
const SERIES_CLASSES = ['s1', 's2', 's3', 's4', 's5', 's6'];

export function ConsentStatsPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const { period } = usePeriod();
  const [unit, setUnit] = useState<'day' | 'week'>('day');
  const load = useLoad(
    () => api.get<ConsentStats>('/v1/consent/stats', { from: period.from, to: period.to, period: unit }),
    [api, period.from, period.to, unit],
  );
  const hidden = <span className="hidden-group">{t('insights.hiddenMark')}</span>;
  const pct = (g: Group, v: number | null) => (g.suppressed ? hidden : fmtPercent(locale, v));
  return (
    <section aria-labelledby="h-consent-stats">
      <h1 id="h-consent-stats">{t('consentStats.title')}</h1>
      <PeriodPicker />
      <div className="controls">
        <label>
          {t('retention.granularity')}
          <select value={unit} onChange={(e) => setUnit(e.target.value as 'day' | 'week')}>
            <option value="day">{t('consentStats.daily')}</option>
            <option value="week">{t('retention.week')}</option>
          </select>
        </label>
      </div>
      <Loaded load={load}>
        {(s) => (
          <>
            <ul className="kpis">
              <li className="kpi">
                <span className="kpi-label">{t('consentStats.subjects')}</span>
                <span className="kpi-value">
                  {s.totals.suppressed ? hidden : fmtNumber(locale, s.totals.subjects)}
                </span>
              </li>
              <li className="kpi">
                <span className="kpi-label">{t('consentStats.gpcShare')}</span>
                <span className="kpi-value">{pct(s.totals, s.totals.gpcShare)}</span>
              </li>
              <li className="kpi">
                <span className="kpi-label">{t('consentStats.withdrawals')}</span>
                <span className="kpi-value">
                  {s.totals.suppressed ? hidden : fmtNumber(locale, s.totals.withdrawals)}
                </span>
              </li>
            </ul>
            {s.privacy.suppressedGroups > 0 ? <HiddenGroups privacy={s.privacy} /> : null}
            <DataTable
              caption={t('consentStats.byPurpose')}
              csvName="consent-by-purpose.csv"
              rows={s.totals.purposes}
              rowKey={(p) => p.purpose}
              columns={[
                {
                  key: 'p',
                  label: t('consentStats.purpose'),
                  value: (p) => t(`purpose.${p.purpose}` as MessageKey),
                },
                { key: 'g', label: t('consentStats.granted'), value: (p) => p.granted, numeric: true },
                { key: 'r', label: t('consentStats.refused'), value: (p) => p.refused, numeric: true },
                {
                  key: 'o',
                  label: t('consentStats.optIn'),
                  value: (p) => p.optInRate,
                  render: (p) => (p.suppressed ? hidden : fmtPercent(locale, p.optInRate)),
                  numeric: true,
                },
                {
                  key: 'w',
                  label: t('consentStats.withdrawals'),
                  value: (p) => p.withdrawals,
                  numeric: true,
                },
              ]}
            />
            <ChartFigure
              title={t('consentStats.optInOverTime')}
              summary={s.totals.purposes
                .map((p) => `${t(`purpose.${p.purpose}` as MessageKey)}: ${fmtPercent(locale, p.optInRate)}`)
                .join(', ')}
              chart={
                <LineChart
                  max={1}
                  yLabel={(v) => fmtPercent(locale, v, 0)}
                  labels={s.series.map((g) => g.start.slice(5))}
                  series={s.totals.purposes.map((p, i) => ({
                    name: t(`purpose.${p.purpose}` as MessageKey),
                    values: s.series.map(
                      (g) => g.purposes.find((x) => x.purpose === p.purpose)?.optInRate ?? null,
                    ),
                    className: SERIES_CLASSES[i % SERIES_CLASSES.length]!,
                  }))}
                />
              }
              table={
                <DataTable
                  caption={t('consentStats.optInOverTime')}
                  csvName={`consent-${unit}.csv`}
                  rows={s.series}
                  rowKey={(g) => g.start}
                  columns={[
                    { key: 'd', label: t('consentStats.start'), value: (g) => g.start },
                    {
                      key: 'n',
                      label: t('consentStats.subjects'),
                      value: (g) => g.subjects,
                      render: (g) => (g.suppressed ? hidden : fmtNumber(locale, g.subjects)),
                      numeric: true,
                    },
                    {
                      key: 'gpc',
                      label: t('consentStats.gpcShare'),
                      value: (g) => g.gpcShare,
                      render: (g) => pct(g, g.gpcShare),
                      numeric: true,
                    },
                    {
                      key: 'w',
                      label: t('consentStats.withdrawals'),
                      value: (g) => g.withdrawals,
                      render: (g) => (g.suppressed ? hidden : fmtNumber(locale, g.withdrawals)),
                      numeric: true,
                    },
                    ...s.totals.purposes.map((p) => ({
                      key: p.purpose,
                      label: `${t('consentStats.optIn')}: ${t(`purpose.${p.purpose}` as MessageKey)}`,
                      value: (g: Group) => g.purposes.find((x) => x.purpose === p.purpose)?.optInRate ?? null,
                      render: (g: Group) => {
                        const f = g.purposes.find((x) => x.purpose === p.purpose);
                        return !f || f.suppressed ? hidden : fmtPercent(locale, f.optInRate);
                      },
                      numeric: true,
                    })),
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
