/**
 * Privacy operations: the DSAR queue with a deadline countdown per request (the deadline comes from the
 * jurisdiction the request was made under), the consent notice and privacy budget, retention per data
 * class, and the record of processing activities.
 */
import { useState, type FormEvent } from 'react';
import { DataTable } from '../../shared/charts.tsx';
import { DAY_MS, download, fmtDate, fmtNumber } from '../../shared/format.ts';
import { useLoad } from '../../shared/hooks.ts';
import { useI18n, type MessageKey } from '../../shared/i18n.ts';
import { ErrorMessage, Loaded, Status } from '../../shared/ui.tsx';
import { useSession } from '../session.ts';

type PrivacyRequest = {
  id: string;
  kind: 'export' | 'erase';
  jurisdiction: string;
  channel: string;
  status: string;
  receivedAt: number;
  deadlineAt: number;
  verifiedAt: number | null;
  completedAt: number | null;
};

const STATUSES = ['awaiting_verification', 'verified', 'processing', 'completed', 'rejected'] as const;
const JURISDICTIONS = ['gdpr', 'ccpa', 'uu_pdp', 'pipl'] as const;

function Countdown(props: { r: PrivacyRequest }) {
  const { t } = useI18n();
  const { r } = props;
  if (r.status === 'completed' || r.status === 'rejected') return <>—</>;
  const days = Math.ceil((r.deadlineAt - Date.now()) / DAY_MS);
  return days >= 0 ? (
    <span className={days <= 3 ? 'due-soon' : undefined}>{t('dsar.daysLeft', { n: days })}</span>
  ) : (
    <strong className="overdue">{t('dsar.overdue', { n: -days })}</strong>
  );
}

export function DsarPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const [status, setStatus] = useState('');
  const load = useLoad(
    () =>
      api.get<{ requests: PrivacyRequest[] }>('/v1/privacy/requests', {
        status: status || undefined,
        limit: 100,
      }),
    [api, status],
  );
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [email, setEmail] = useState('');
  const [kind, setKind] = useState<'export' | 'erase'>('export');
  const [jurisdiction, setJurisdiction] = useState<(typeof JURISDICTIONS)[number]>('gdpr');

  const act = async (r: PrivacyRequest, action: 'approve' | 'reject') => {
    setError(undefined);
    setMessage(undefined);
    try {
      let body: unknown;
      if (action === 'reject') {
        const reason = window.prompt(t('dsar.rejectReason'));
        if (!reason) return;
        body = { reason };
      }
      const out = await api.send<{ status?: string; export?: unknown }>(
        'POST',
        `/v1/privacy/requests/${r.id}/${action}`,
        body,
      );
      if (out?.export) {
        // A queued export is produced at approval: the officer delivers the file to the shopper.
        const file = `export-${r.id}.json`;
        download(file, JSON.stringify(out.export, null, 2), 'application/json');
        setMessage(t('dsar.exported', { id: r.id, file }));
      } else setMessage(t('dsar.done', { id: r.id, status: out?.status ?? action }));
      load.reload();
    } catch (err) {
      setError(err);
    }
  };

  const enter = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setMessage(undefined);
    try {
      await api.send('POST', '/v1/privacy/requests/by-email', { email, kind, jurisdiction });
      setMessage(t('dsar.created'));
      setEmail('');
      load.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section aria-labelledby="h-dsar">
      <h1 id="h-dsar">{t('dsar.title')}</h1>
      {message ? <Status>{message}</Status> : null}
      {error ? <ErrorMessage error={error} /> : null}
      <div className="controls">
        <label>
          {t('dsar.filter')}{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">{t('dsar.all')}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Loaded load={load}>
        {(d) => (
          <DataTable
            caption={t('dsar.title')}
            csvName="privacy-requests.csv"
            rows={d.requests}
            rowKey={(r) => r.id}
            columns={[
              { key: 'id', label: 'ID', value: (r) => r.id },
              {
                key: 'kind',
                label: t('dsar.kind'),
                value: (r) => r.kind,
                render: (r) => (r.kind === 'export' ? t('dsar.export') : t('dsar.erase')),
              },
              { key: 'law', label: t('dsar.jurisdiction'), value: (r) => r.jurisdiction.toUpperCase() },
              {
                key: 'status',
                label: t('dsar.status'),
                value: (r) => r.status,
                render: (r) =>
                  (STATUSES as readonly string[]).includes(r.status)
                    ? t(`status.${r.status}` as MessageKey)
                    : r.status,
              },
              {
                key: 'received',
                label: t('dsar.received'),
                value: (r) => new Date(r.receivedAt).toISOString(),
                render: (r) => fmtDate(locale, r.receivedAt),
              },
              {
                key: 'deadline',
                label: t('dsar.deadline'),
                value: (r) => new Date(r.deadlineAt).toISOString(),
                render: (r) => (
                  <>
                    {fmtDate(locale, r.deadlineAt)} · <Countdown r={r} />
                  </>
                ),
              },
              {
                key: 'actions',
                label: t('dsar.actions'),
                value: () => '',
                render: (r) =>
                  r.status === 'verified' || r.status === 'awaiting_verification' ? (
                    <span className="row-actions">
                      {r.status === 'verified' ? (
                        <button type="button" onClick={() => void act(r, 'approve')}>
                          {t('dsar.approve')} <span className="sr-only">{r.id}</span>
                        </button>
                      ) : null}
                      <button type="button" onClick={() => void act(r, 'reject')}>
                        {t('dsar.reject')} <span className="sr-only">{r.id}</span>
                      </button>
                    </span>
                  ) : null,
              },
            ]}
          />
        )}
      </Loaded>
      <form className="card" onSubmit={(e) => void enter(e)}>
        <h2>{t('dsar.new')}</h2>
        <label>
          {t('dsar.email')}
          <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          {t('dsar.kind')}
          <select value={kind} onChange={(e) => setKind(e.target.value as 'export' | 'erase')}>
            <option value="export">{t('dsar.export')}</option>
            <option value="erase">{t('dsar.erase')}</option>
          </select>
        </label>
        <label>
          {t('dsar.jurisdiction')}
          <select
            value={jurisdiction}
            onChange={(e) => setJurisdiction(e.target.value as (typeof JURISDICTIONS)[number])}
          >
            {JURISDICTIONS.map((j) => (
              <option key={j} value={j}>
                {j.toUpperCase()}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary">
          {t('dsar.submit')}
        </button>
      </form>
    </section>
  );
}

type Notice = { version: string; texts: Record<string, string>; hash: string; publishedAt: number };
type Budget = { epsilonBudget: number; spent: number; remaining: number; periodDays: number };
const PURPOSES = [
  'necessary',
  'analytics',
  'personalization',
  'marketing_email',
  'marketing_push',
  'advertising',
  'sale',
] as const;

export function ConsentPage() {
  const { t, locale } = useI18n();
  const { api, can } = useSession();
  const notice = useLoad(() => api.get<Notice>('/v1/consent/notices/current'), [api]);
  const budget = useLoad(
    () => (can('analytics:read') ? api.get<Budget>('/v1/analytics/private/budget') : Promise.resolve(null)),
    [api],
  );
  const lang = locale.startsWith('zh') ? 'zh' : locale;
  return (
    <section aria-labelledby="h-consent">
      <h1 id="h-consent">{t('consent.title')}</h1>
      <h2>{t('consent.purposes')}</h2>
      <dl className="details">
        {PURPOSES.map((p) => (
          <div key={p}>
            <dt>{t(`purpose.${p}`)}</dt>
            <dd>{t(`purposeHelp.${p}`)}</dd>
          </div>
        ))}
      </dl>
      <h2>{t('consent.notice')}</h2>
      <Loaded load={notice}>
        {(n) => (
          <div className="card">
            <p>{t('consent.version', { v: n.version, date: fmtDate(locale, n.publishedAt) })}</p>
            <p className="muted">
              {t('consent.hash')}: <code>{n.hash}</code>
            </p>
            <blockquote lang={lang}>{n.texts[lang] ?? n.texts.en}</blockquote>
          </div>
        )}
      </Loaded>
      <Loaded load={budget}>
        {(b) =>
          b ? (
            <>
              <h2>{t('consent.budget')}</h2>
              <p>
                {t('consent.budgetLine', {
                  spent: fmtNumber(locale, b.spent, 2),
                  total: fmtNumber(locale, b.epsilonBudget, 2),
                  remaining: fmtNumber(locale, b.remaining, 2),
                  days: b.periodDays,
                })}
              </p>
              <meter min={0} max={b.epsilonBudget} value={b.spent} aria-label={t('consent.budget')} />
            </>
          ) : null
        }
      </Loaded>
    </section>
  );
}

type Policy = { dataClass: string; ttlDays: number };

export function DataRetentionPage() {
  const { t } = useI18n();
  const { api } = useSession();
  const load = useLoad(() => api.get<{ policies: Policy[] }>('/v1/privacy/retention'), [api]);
  const [edits, setEdits] = useState<Record<string, number>>({});
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<unknown>();
  const save = async (cls: string, days: number) => {
    setError(undefined);
    setMessage(undefined);
    try {
      await api.send('PUT', `/v1/privacy/retention/${encodeURIComponent(cls)}`, { ttlDays: days });
      setMessage(t('retentionSettings.saved', { cls, days }));
      load.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="h-ret">
      <h1 id="h-ret">{t('retentionSettings.title')}</h1>
      {message ? <Status>{message}</Status> : null}
      {error ? <ErrorMessage error={error} /> : null}
      <Loaded load={load}>
        {(d) => (
          <DataTable
            caption={t('retentionSettings.title')}
            rows={d.policies}
            rowKey={(p) => p.dataClass}
            columns={[
              { key: 'c', label: t('retentionSettings.class'), value: (p) => p.dataClass },
              {
                key: 'd',
                label: t('retentionSettings.days'),
                value: (p) => p.ttlDays,
                render: (p) => (
                  <span className="row-actions">
                    <input
                      type="number"
                      min={1}
                      max={36500}
                      aria-label={`${t('retentionSettings.days')}: ${p.dataClass}`}
                      value={edits[p.dataClass] ?? p.ttlDays}
                      onChange={(e) => setEdits({ ...edits, [p.dataClass]: Number(e.target.value) })}
                    />
                    <button
                      type="button"
                      onClick={() => void save(p.dataClass, edits[p.dataClass] ?? p.ttlDays)}
                    >
                      {t('app.save')} <span className="sr-only">{p.dataClass}</span>
                    </button>
                  </span>
                ),
              },
            ]}
          />
        )}
      </Loaded>
    </section>
  );
}

export function ProcessingPage() {
  const { t } = useI18n();
  const { api } = useSession();
  const load = useLoad(() => api.get<Record<string, unknown>>('/v1/privacy/processing-record'), [api]);
  return (
    <section aria-labelledby="h-ropa">
      <h1 id="h-ropa">{t('processing.title')}</h1>
      <Loaded load={load}>
        {(r) => (
          <>
            <button
              type="button"
              onClick={() =>
                download('record-of-processing.json', JSON.stringify(r, null, 2), 'application/json')
              }
            >
              {t('processing.download')}
            </button>
            <pre className="json" tabIndex={0}>
              {JSON.stringify(r, null, 2)}
            </pre>
          </>
        )}
      </Loaded>
    </section>
  );
}
