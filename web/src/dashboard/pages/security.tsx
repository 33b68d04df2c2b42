/** Security: staff and roles, secret API keys and sources, the audit log with its chain check, alerts. */
import { useState, type FormEvent } from 'react';
import { SERVER_KEY_SCOPES, STAFF_ROLES } from '../../../../src/modules/auth/permissions.ts';
import { DataTable } from '../../shared/charts.tsx';
import { fmtDateTime } from '../../shared/format.ts';
import { useLoad } from '../../shared/hooks.ts';
import { useI18n } from '../../shared/i18n.ts';
import { ErrorMessage, Loaded, Status } from '../../shared/ui.tsx';
import { useSession, type Role, type Staff } from '../session.ts';

function useAction() {
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<unknown>();
  const run = async (fn: () => Promise<string | undefined>) => {
    setError(undefined);
    setMessage(undefined);
    try {
      setMessage(await fn());
    } catch (err) {
      setError(err);
    }
  };
  const view = (
    <>
      {message ? <Status>{message}</Status> : null}
      {error ? <ErrorMessage error={error} /> : null}
    </>
  );
  return { run, view };
}

export function StaffPage() {
  const { t } = useI18n();
  const { api, staff: me } = useSession();
  const load = useLoad(() => api.get<{ staff: Staff[] }>('/v1/staff'), [api]);
  const { run, view } = useAction();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('analyst');
  const [password, setPassword] = useState('');

  const patch = (s: Staff, body: { role?: Role; disabled?: boolean }) =>
    run(async () => {
      await api.send('PATCH', `/v1/staff/${s.id}`, body);
      load.reload();
      return undefined;
    });
  const add = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api.send('POST', '/v1/staff', { email, role, password });
      setEmail('');
      setPassword('');
      load.reload();
      return t('staff.added', { email });
    });
  };

  return (
    <section aria-labelledby="h-staff">
      <h1 id="h-staff">{t('staff.title')}</h1>
      {view}
      <Loaded load={load}>
        {(d) => (
          <DataTable
            caption={t('staff.title')}
            rows={d.staff}
            rowKey={(s) => s.id}
            columns={[
              { key: 'email', label: t('staff.email'), value: (s) => s.email },
              {
                key: 'role',
                label: t('staff.role'),
                value: (s) => s.role,
                render: (s) =>
                  s.id === me.id ? (
                    t(`role.${s.role}`)
                  ) : (
                    <select
                      aria-label={`${t('staff.role')}: ${s.email}`}
                      value={s.role}
                      onChange={(e) => void patch(s, { role: e.target.value as Role })}
                    >
                      {STAFF_ROLES.map((r) => (
                        <option key={r} value={r}>
                          {t(`role.${r}`)}
                        </option>
                      ))}
                    </select>
                  ),
              },
              {
                key: 'mfa',
                label: t('staff.mfa'),
                value: (s) => (s.mfaEnabled ? t('staff.enrolled') : t('staff.notEnrolled')),
              },
              {
                key: 'state',
                label: t('staff.state'),
                value: (s) => (s.disabled ? t('staff.disabled') : t('staff.active')),
                render: (s) => (
                  <span className="row-actions">
                    {s.disabled ? t('staff.disabled') : t('staff.active')}
                    {s.id === me.id ? null : (
                      <button type="button" onClick={() => void patch(s, { disabled: !s.disabled })}>
                        {s.disabled ? t('staff.enable') : t('staff.disable')}
                        <span className="sr-only"> {s.email}</span>
                      </button>
                    )}
                  </span>
                ),
              },
            ]}
          />
        )}
      </Loaded>
      <form className="card" onSubmit={add}>
        <h2>{t('staff.add')}</h2>
        <label>
          {t('staff.email')}
          <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          {t('staff.role')}
          <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {STAFF_ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`role.${r}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('staff.initialPassword')}
          <input
            type="password"
            autoComplete="new-password"
            minLength={12}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button type="submit" className="primary">
          {t('app.create')}
        </button>
      </form>
    </section>
  );
}

type ServerKey = {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
};
type Source = { id: string; name: string; createdAt: number; keys: { id: string; prefix: string }[] };

export function KeysPage() {
  const { t, locale } = useI18n();
  const { api, can } = useSession();
  const keys = useLoad(() => api.get<{ keys: ServerKey[] }>('/v1/keys'), [api]);
  const sources = useLoad(
    () =>
      can('sources:admin') ? api.get<{ sources: Source[] }>('/v1/sources') : Promise.resolve({ sources: [] }),
    [api],
  );
  const { run, view } = useAction();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['analytics:read']);
  const [created, setCreated] = useState<string>();

  const create = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const out = await api.send<{ key: string }>('POST', '/v1/keys', { name, scopes });
      setCreated(out.key);
      setName('');
      keys.reload();
      return undefined;
    });
  };

  return (
    <section aria-labelledby="h-keys">
      <h1 id="h-keys">{t('keys.title')}</h1>
      {view}
      {created ? (
        <div role="status" className="notice ok">
          <p>{t('keys.shownOnce')}</p>
          <input readOnly value={created} aria-label={t('keys.prefix')} className="secret" />
        </div>
      ) : null}
      <Loaded load={keys}>
        {(d) => (
          <DataTable
            caption={t('keys.title')}
            rows={d.keys}
            rowKey={(k) => k.id}
            columns={[
              { key: 'name', label: t('keys.name'), value: (k) => k.name },
              { key: 'prefix', label: t('keys.prefix'), value: (k) => `${k.prefix}…` },
              { key: 'scopes', label: t('keys.scopes'), value: (k) => k.scopes.join(', ') },
              { key: 'used', label: t('keys.lastUsed'), value: (k) => fmtDateTime(locale, k.lastUsedAt) },
              {
                key: 'revoke',
                label: t('keys.revoke'),
                value: () => '',
                render: (k) =>
                  k.revokedAt ? (
                    t('keys.revoked')
                  ) : (
                    <button
                      type="button"
                      onClick={() =>
                        void run(async () => {
                          await api.send('DELETE', `/v1/keys/${k.id}`);
                          keys.reload();
                          return undefined;
                        })
                      }
                    >
                      {t('keys.revoke')} <span className="sr-only">{k.name}</span>
                    </button>
                  ),
              },
            ]}
          />
        )}
      </Loaded>
      <form className="card" onSubmit={create}>
        <h2>{t('keys.add')}</h2>
        <label>
          {t('keys.name')}
          <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <fieldset>
          <legend>{t('keys.scopes')}</legend>
          <div className="checks">
            {SERVER_KEY_SCOPES.map((s) => (
              <label key={s} className="check">
                <input
                  type="checkbox"
                  checked={scopes.includes(s)}
                  onChange={(e) =>
                    setScopes(e.target.checked ? [...scopes, s] : scopes.filter((x) => x !== s))
                  }
                />
                {s}
              </label>
            ))}
          </div>
        </fieldset>
        <button type="submit" className="primary" disabled={scopes.length === 0}>
          {t('app.create')}
        </button>
      </form>
      <Loaded load={sources}>
        {(d) =>
          can('sources:admin') ? (
            <DataTable
              caption={t('keys.sources')}
              rows={d.sources}
              rowKey={(s) => s.id}
              columns={[
                { key: 'name', label: t('keys.name'), value: (s) => s.name },
                { key: 'id', label: 'ID', value: (s) => s.id },
                {
                  key: 'keys',
                  label: t('keys.prefix'),
                  value: (s) => s.keys.map((k) => `${k.prefix}…`).join(', '),
                },
              ]}
            />
          ) : null
        }
      </Loaded>
    </section>
  );
}

type AuditEntry = {
  seq: number;
  ts: number;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
};
type Verify = {
  ok: boolean;
  entries: number;
  firstBroken: number | null;
  reason: string | null;
  checkpoints: number;
};

export function AuditPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const first = useLoad(async () => {
    const d = await api.get<{ entries: AuditEntry[]; next: number | null }>('/v1/audit', { limit: 50 });
    setEntries(d.entries);
    setNext(d.next);
    return d;
  }, [api]);
  const [verify, setVerify] = useState<Verify>();
  const { run, view } = useAction();

  return (
    <section aria-labelledby="h-audit">
      <h1 id="h-audit">{t('audit.title')}</h1>
      <button
        type="button"
        className="primary"
        onClick={() =>
          void run(async () => {
            setVerify(await api.get<Verify>('/v1/audit/verify'));
            return undefined;
          })
        }
      >
        {t('audit.verify')}
      </button>
      {view}
      {verify ? (
        <p role="status" className={`notice ${verify.ok ? 'ok' : 'error'}`}>
          {verify.ok
            ? t('audit.ok', { n: verify.entries, c: verify.checkpoints })
            : t('audit.broken', { seq: verify.firstBroken ?? '?', reason: verify.reason ?? '' })}
        </p>
      ) : null}
      <Loaded load={first}>
        {() => (
          <>
            <DataTable
              caption={t('audit.title')}
              csvName="audit.csv"
              rows={entries}
              rowKey={(e) => String(e.seq)}
              columns={[
                { key: 'seq', label: t('audit.seq'), value: (e) => e.seq, numeric: true },
                { key: 'ts', label: t('audit.time'), value: (e) => fmtDateTime(locale, e.ts) },
                { key: 'actor', label: t('audit.actor'), value: (e) => e.actor },
                { key: 'action', label: t('audit.action'), value: (e) => e.action },
                { key: 'target', label: t('audit.target'), value: (e) => e.target ?? '—' },
                { key: 'outcome', label: t('audit.outcome'), value: (e) => e.outcome },
              ]}
            />
            {next !== null ? (
              <button
                type="button"
                onClick={() =>
                  void run(async () => {
                    const d = await api.get<{ entries: AuditEntry[]; next: number | null }>('/v1/audit', {
                      limit: 50,
                      after: next,
                    });
                    setEntries((e) => [...e, ...d.entries]);
                    setNext(d.next);
                    return undefined;
                  })
                }
              >
                {t('audit.more')}
              </button>
            ) : null}
          </>
        )}
      </Loaded>
    </section>
  );
}

type Alert = { id: string; kind: string; severity: string; subject: string; createdAt: number };

export function AlertsPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const load = useLoad(() => api.get<{ alerts: Alert[] }>('/v1/security/alerts', { limit: 100 }), [api]);
  return (
    <section aria-labelledby="h-alerts">
      <h1 id="h-alerts">{t('alerts.title')}</h1>
      <Loaded load={load}>
        {(d) => (
          <DataTable
            caption={t('alerts.title')}
            csvName="alerts.csv"
            rows={d.alerts}
            rowKey={(a) => a.id}
            columns={[
              { key: 'time', label: t('alerts.time'), value: (a) => fmtDateTime(locale, a.createdAt) },
              { key: 'kind', label: t('alerts.kind'), value: (a) => a.kind },
              { key: 'severity', label: t('alerts.severity'), value: (a) => a.severity },
              { key: 'subject', label: t('alerts.subject'), value: (a) => a.subject },
            ]}
          />
        )}
      </Loaded>
    </section>
  );
}
