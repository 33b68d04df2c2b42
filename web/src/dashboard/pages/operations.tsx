/**
 * Operations: the fraud review queue (decide with one click, with a reason), the chatbot inbox (take over,
 * reply, resolve — the bot stops replying once a person owns the conversation) and the recommendation
 * exposure/fairness report.
 */
import { useState, type FormEvent } from 'react';
import { DataTable } from '../../shared/charts.tsx';
import { fmtDateTime, fmtPercent } from '../../shared/format.ts';
import { useLoad } from '../../shared/hooks.ts';
import { useI18n, type MessageKey } from '../../shared/i18n.ts';
import { ErrorMessage, Loaded, Status } from '../../shared/ui.tsx';
import { useSession } from '../session.ts';

type FraudCase = {
  id: string;
  orderId: string | null;
  source: string;
  status: 'open' | 'approved' | 'declined';
  score: number | null;
  reasons: { code: string; message: string }[];
  createdAt: string;
};

export function FraudPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const [status, setStatus] = useState<'open' | 'approved' | 'declined'>('open');
  const load = useLoad(
    () => api.get<{ cases: FraudCase[] }>('/v1/fraud/cases', { status, limit: 100 }),
    [api, status],
  );
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<unknown>();
  const decide = async (c: FraudCase, decision: 'approve' | 'decline') => {
    setError(undefined);
    setMessage(undefined);
    try {
      // One click: the most common reason for each decision; the queue keeps it as evidence.
      await api.send('POST', `/v1/fraud/cases/${encodeURIComponent(c.id)}/decision`, {
        decision,
        reasons: [decision === 'approve' ? 'verified_customer' : 'confirmed_fraud'],
      });
      setMessage(
        t('fraud.decided', {
          id: c.id,
          decision: t(decision === 'approve' ? 'fraud.approved' : 'fraud.declined'),
        }),
      );
      load.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="h-fraud">
      <h1 id="h-fraud">{t('fraud.title')}</h1>
      {message ? <Status>{message}</Status> : null}
      {error ? <ErrorMessage error={error} /> : null}
      <div className="controls">
        <label>
          {t('fraud.status')}{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value as typeof status)}>
            {(['open', 'approved', 'declined'] as const).map((s) => (
              <option key={s} value={s}>
                {t(`fraud.${s}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Loaded load={load}>
        {(d) => (
          <DataTable
            caption={t('fraud.title')}
            csvName="fraud-cases.csv"
            rows={d.cases}
            rowKey={(c) => c.id}
            columns={[
              { key: 'order', label: t('fraud.order'), value: (c) => c.orderId ?? c.id },
              {
                key: 'time',
                label: t('inbox.updated'),
                value: (c) => fmtDateTime(locale, Date.parse(c.createdAt)),
              },
              { key: 'score', label: t('fraud.score'), value: (c) => c.score, numeric: true },
              { key: 'source', label: t('fraud.source'), value: (c) => c.source },
              {
                key: 'reasons',
                label: t('fraud.reasons'),
                value: (c) => c.reasons.map((r) => r.message).join('; '),
                render: (c) => (
                  <ul className="plain">
                    {c.reasons.map((r) => (
                      <li key={r.code}>{r.message}</li>
                    ))}
                  </ul>
                ),
              },
              {
                key: 'act',
                label: t('dsar.actions'),
                value: () => '',
                render: (c) =>
                  c.status === 'open' ? (
                    <span className="row-actions">
                      <button type="button" onClick={() => void decide(c, 'approve')}>
                        {t('fraud.approve')} <span className="sr-only">{c.orderId ?? c.id}</span>
                      </button>
                      <button type="button" onClick={() => void decide(c, 'decline')}>
                        {t('fraud.decline')} <span className="sr-only">{c.orderId ?? c.id}</span>
                      </button>
                    </span>
                  ) : (
                    t(`fraud.${c.status}` as MessageKey)
                  ),
              },
            ]}
          />
        )}
      </Loaded>
    </section>
  );
}

type Conversation = {
  id: string;
  state: string;
  lang: string;
  channel: string;
  handoffReason: string | null;
  agentId: string | null;
  updatedAt: string;
};
type Transcript = {
  conversationId: string;
  state: string;
  messages: { role: string; text: string; at: string }[];
};

export function InboxPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const inbox = useLoad(() => api.get<{ conversations: Conversation[] }>('/v1/chat/inbox'), [api]);
  const [open, setOpen] = useState<string>();
  const transcript = useLoad(
    () =>
      open
        ? api.get<Transcript>(`/v1/chat/conversations/${encodeURIComponent(open)}/transcript`)
        : Promise.resolve(null),
    [api, open],
  );
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>();
  const act = async (path: string, body?: unknown) => {
    if (!open) return;
    setError(undefined);
    try {
      await api.send('POST', `/v1/chat/conversations/${encodeURIComponent(open)}/${path}`, body);
      transcript.reload();
      inbox.reload();
    } catch (err) {
      setError(err);
    }
  };
  const reply = (e: FormEvent) => {
    e.preventDefault();
    void act('agent-messages', { text }).then(() => setText(''));
  };
  return (
    <section aria-labelledby="h-inbox">
      <h1 id="h-inbox">{t('inbox.title')}</h1>
      {error ? <ErrorMessage error={error} /> : null}
      <Loaded load={inbox}>
        {(d) =>
          d.conversations.length === 0 ? (
            <p>{t('inbox.empty')}</p>
          ) : (
            <DataTable
              caption={t('inbox.title')}
              rows={d.conversations}
              rowKey={(c) => c.id}
              columns={[
                { key: 'id', label: 'ID', value: (c) => c.id },
                { key: 'state', label: t('inbox.state'), value: (c) => c.state },
                { key: 'lang', label: t('inbox.lang'), value: (c) => c.lang },
                { key: 'reason', label: t('inbox.reason'), value: (c) => c.handoffReason ?? '—' },
                {
                  key: 'updated',
                  label: t('inbox.updated'),
                  value: (c) => fmtDateTime(locale, Date.parse(c.updatedAt)),
                },
                {
                  key: 'open',
                  label: t('inbox.open'),
                  value: () => '',
                  render: (c) => (
                    <button type="button" aria-pressed={open === c.id} onClick={() => setOpen(c.id)}>
                      {t('inbox.open')} <span className="sr-only">{c.id}</span>
                    </button>
                  ),
                },
              ]}
            />
          )
        }
      </Loaded>
      {open ? (
        <Loaded load={transcript}>
          {(tr) =>
            tr ? (
              <div className="card conversation">
                <h2>{t('inbox.transcript', { id: tr.conversationId })}</h2>
                <p className="muted">
                  {t('inbox.state')}: {tr.state}
                </p>
                <ol className="messages" aria-live="polite">
                  {tr.messages.map((m, i) => (
                    <li key={i} className={`msg msg-${m.role}`}>
                      <strong>{m.role}</strong>{' '}
                      <span className="muted">{fmtDateTime(locale, Date.parse(m.at))}</span>
                      <p>{m.text}</p>
                    </li>
                  ))}
                </ol>
                <div className="row-actions">
                  {tr.state === 'agent' || tr.state === 'resolved' ? null : (
                    <button type="button" onClick={() => void act('claim')}>
                      {t('inbox.takeOver')}
                    </button>
                  )}
                  <button type="button" onClick={() => void act('resolve')}>
                    {t('inbox.resolve')}
                  </button>
                </div>
                <form onSubmit={reply} className="inline">
                  <label>
                    {t('inbox.reply')}
                    <textarea required rows={3} value={text} onChange={(e) => setText(e.target.value)} />
                  </label>
                  <button type="submit" className="primary" disabled={text.trim() === ''}>
                    {t('inbox.send')}
                  </button>
                </form>
              </div>
            ) : null
          }
        </Loaded>
      ) : null}
    </section>
  );
}

type Share = { exposureShare: number; catalogueShare: number };
const isShareMap = (v: unknown): v is Record<string, Share> =>
  typeof v === 'object' &&
  v !== null &&
  Object.values(v).every((x) => typeof x === 'object' && x !== null && 'exposureShare' in x);

export function FairnessPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const load = useLoad(
    () => api.get<Record<string, unknown>>('/v1/recommendations/fairness', { days: 30 }),
    [api],
  );
  return (
    <section aria-labelledby="h-fair">
      <h1 id="h-fair">{t('fairness.title')}</h1>
      <Loaded load={load}>
        {(r) => (
          <>
            <dl className="details">
              {Object.entries(r)
                .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
                .map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd>
                      {typeof v === 'number'
                        ? v.toLocaleString(locale, { maximumFractionDigits: 3 })
                        : String(v)}
                    </dd>
                  </div>
                ))}
            </dl>
            {Object.entries(r)
              .filter((e): e is [string, Record<string, Share>] => isShareMap(e[1]))
              .map(([k, groups]) => (
                <DataTable
                  key={k}
                  caption={k}
                  csvName={`fairness-${k}.csv`}
                  rows={Object.entries(groups)}
                  rowKey={([g]) => g}
                  columns={[
                    { key: 'g', label: t('fairness.group'), value: ([g]) => g },
                    {
                      key: 'e',
                      label: t('fairness.exposure'),
                      value: ([, s]) => s.exposureShare,
                      render: ([, s]) => fmtPercent(locale, s.exposureShare),
                      numeric: true,
                    },
                    {
                      key: 'c',
                      label: t('fairness.catalogue'),
                      value: ([, s]) => s.catalogueShare,
                      render: ([, s]) => fmtPercent(locale, s.catalogueShare),
                      numeric: true,
                    },
                  ]}
                />
              ))}
          </>
        )}
      </Loaded>
    </section>
  );
}
