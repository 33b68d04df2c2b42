/**
 * The shoppers' privacy centre (/privacy). The shop links here with a short-lived shopper token in the URL
 * fragment (`/privacy#token=…`): a fragment never reaches a server log or a Referer header, and the page
 * removes it from the address bar at once. The token authorises the /v1/me/* APIs, consent changes
 * included (`POST /v1/me/consent`, method api).
 */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { createApiClient, type ApiClient } from '../shared/api.ts';
import { download } from '../shared/format.ts';
import { useLoad } from '../shared/hooks.ts';
import {
  I18nContext,
  matchLocale,
  translator,
  useI18n,
  type Locale,
  type MessageKey,
} from '../shared/i18n.ts';
import { ErrorMessage, LanguagePicker, Loaded, Status } from '../shared/ui.tsx';

const PURPOSES = [
  'analytics',
  'personalization',
  'marketing_email',
  'marketing_push',
  'advertising',
  'sale',
] as const;
type Purpose = (typeof PURPOSES)[number];
/** Global Privacy Control is an opt-out of these; the page keeps them off while the signal is sent. */
const GPC_PURPOSES: readonly Purpose[] = ['advertising', 'sale'];

const TOKEN_KEY = 'candor.privacy.token';

type Credentials = { token: string };

/**
 * Reads the token from the fragment once, keeps it for this tab only, and cleans the address bar. A `key`
 * in older links is ignored: consent goes to /v1/me/consent with the token alone.
 */
function readCredentials(): Credentials | null {
  const hash = new URLSearchParams(location.hash.slice(1));
  const fromHash = hash.get('token');
  if (fromHash) {
    sessionStorage.setItem(TOKEN_KEY, fromHash);
    history.replaceState(null, '', location.pathname + location.search);
  }
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { token } : null;
}

function gpcSignal(): boolean {
  return (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl === true;
}

export function PrivacyCentre() {
  const [locale, setLocaleState] = useState<Locale>(() =>
    matchLocale(new URLSearchParams(location.search).get('lang') ?? navigator.language),
  );
  const i18n = useMemo(() => ({ locale, t: translator(locale), setLocale: setLocaleState }), [locale]);
  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = i18n.t('pc.title');
  }, [locale, i18n]);
  const [creds] = useState(readCredentials);
  const api = useMemo(
    () => createApiClient(() => (creds ? { Authorization: `Bearer ${creds.token}` } : {})),
    [creds],
  );
  const { t } = i18n;
  return (
    <I18nContext.Provider value={i18n}>
      <main className="pc" id="main">
        <header>
          <h1>{t('pc.title')}</h1>
          <LanguagePicker />
        </header>
        <p>{t('pc.intro')}</p>
        {creds ? (
          <>
            <Consents api={api} />
            <Personalisation api={api} />
            <Interests api={api} />
            <MyData api={api} />
            <Erase api={api} />
          </>
        ) : (
          <p role="alert" className="notice error">
            {t('pc.token')}
          </p>
        )}
        <HowDataIsUsed />
      </main>
    </I18nContext.Provider>
  );
}

type MyConsent = { current: Record<string, { granted: boolean }> };

function Consents(props: { api: ApiClient }) {
  const { t, locale } = useI18n();
  const { api } = props;
  const gpc = gpcSignal();
  const load = useLoad(() => api.get<MyConsent>('/v1/me/consent'), [api]);
  const [choice, setChoice] = useState<Partial<Record<Purpose, boolean>>>({});
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>();
  const save = async (e: FormEvent, current: MyConsent['current']) => {
    e.preventDefault();
    setSaved(false);
    setError(undefined);
    try {
      const notice = await api.get<{ version: string }>('/v1/consent/notices/current');
      const purposes = Object.fromEntries(
        PURPOSES.map((p) => [
          p,
          gpc && GPC_PURPOSES.includes(p) ? false : (choice[p] ?? current[p]?.granted ?? false),
        ]),
      );
      // The shopper token names the shopper: no write key or customer id travels with the decision.
      await api.send('POST', '/v1/me/consent', {
        purposes,
        noticeVersion: notice.version,
        locale: locale.startsWith('zh') ? 'zh' : locale,
      });
      setChoice({});
      setSaved(true);
      load.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="h-consents">
      <h2 id="h-consents">{t('pc.consents')}</h2>
      {gpc ? <p className="notice ok">{t('pc.gpc')}</p> : null}
      <Loaded load={load}>
        {(c) => (
          <form onSubmit={(e) => void save(e, c.current)}>
            <ul className="purposes">
              {PURPOSES.map((p) => {
                const locked = gpc && GPC_PURPOSES.includes(p);
                const on = locked ? false : (choice[p] ?? c.current[p]?.granted ?? false);
                return (
                  <li key={p}>
                    <div>
                      <strong id={`p-${p}`}>{t(`purpose.${p}` as MessageKey)}</strong>
                      <p className="muted" id={`ph-${p}`}>
                        {t(`purposeHelp.${p}` as MessageKey)}
                      </p>
                    </div>
                    <label className="check">
                      <input
                        type="checkbox"
                        name={p}
                        role="switch"
                        checked={on}
                        disabled={locked}
                        aria-labelledby={`p-${p}`}
                        aria-describedby={`ph-${p}`}
                        onChange={(e) => setChoice({ ...choice, [p]: e.target.checked })}
                      />
                      <span aria-hidden="true">{on ? t('pc.on') : t('pc.off')}</span>
                    </label>
                  </li>
                );
              })}
            </ul>
            <button type="submit" className="primary">
              {t('pc.saveConsents')}
            </button>
            {saved ? <Status>{t('pc.saved')}</Status> : null}
            {error ? <ErrorMessage error={error} /> : null}
          </form>
        )}
      </Loaded>
    </section>
  );
}

function Personalisation(props: { api: ApiClient }) {
  const { t } = useI18n();
  const { api } = props;
  const load = useLoad(() => api.get<{ personalization: boolean }>('/v1/me/profile'), [api]);
  const [error, setError] = useState<unknown>();
  const set = async (enabled: boolean) => {
    setError(undefined);
    try {
      await api.send('PUT', '/v1/me/personalization', { enabled });
      load.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="h-pers">
      <h2 id="h-pers">{t('pc.personalization')}</h2>
      <p className="muted">{t('pc.personalizationHelp')}</p>
      <Loaded load={load}>
        {(p) => (
          <p className="row-actions">
            <span role="status">
              {p.personalization ? t('pc.personalizationOn') : t('pc.personalizationOff')}
            </span>
            <button type="button" onClick={() => void set(!p.personalization)}>
              {p.personalization ? t('pc.turnOff') : t('pc.turnOn')}
            </button>
          </p>
        )}
      </Loaded>
      {error ? <ErrorMessage error={error} /> : null}
    </section>
  );
}

function Interests(props: { api: ApiClient }) {
  const { t } = useI18n();
  const { api } = props;
  const load = useLoad(
    () => api.get<{ interests: { tag: string; score: number }[] }>('/v1/me/interests'),
    [api],
  );
  const [error, setError] = useState<unknown>();
  const remove = async (tag: string) => {
    setError(undefined);
    try {
      await api.send('DELETE', `/v1/me/interests/${encodeURIComponent(tag)}`);
      load.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="h-int">
      <h2 id="h-int">{t('pc.interests')}</h2>
      <p className="muted">{t('pc.interestsHelp')}</p>
      <Loaded load={load}>
        {(d) =>
          d.interests.length === 0 ? (
            <p>{t('pc.noInterests')}</p>
          ) : (
            <ul className="tags">
              {d.interests.map((i) => (
                <li key={i.tag}>
                  {i.tag}
                  <button
                    type="button"
                    className="link"
                    aria-label={t('pc.deleteTag', { tag: i.tag })}
                    onClick={() => void remove(i.tag)}
                  >
                    ×
                  </button>
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
      {error ? <ErrorMessage error={error} /> : null}
    </section>
  );
}

function MyData(props: { api: ApiClient }) {
  const { t } = useI18n();
  const [done, setDone] = useState<string>();
  const [error, setError] = useState<unknown>();
  const get = async () => {
    setError(undefined);
    setDone(undefined);
    try {
      const res = await props.api.raw('/v1/me/export');
      const name = `my-data-${new Date().toISOString().slice(0, 10)}.json`;
      download(name, await res.blob());
      setDone(name);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="h-data">
      <h2 id="h-data">{t('pc.myData')}</h2>
      <button type="button" className="primary" onClick={() => void get()}>
        {t('pc.download')}
      </button>
      {done ? <Status>{t('pc.downloaded', { file: done })}</Status> : null}
      {error ? <ErrorMessage error={error} /> : null}
    </section>
  );
}

function Erase(props: { api: ApiClient }) {
  const { t } = useI18n();
  const [confirm, setConfirm] = useState('');
  const [receipt, setReceipt] = useState<string>();
  const [error, setError] = useState<unknown>();
  const erase = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      const r = await props.api.send<{ requestId: string }>('POST', '/v1/me/erase', {});
      setReceipt(r.requestId);
      sessionStorage.removeItem(TOKEN_KEY);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="h-erase">
      <h2 id="h-erase">{t('pc.erase')}</h2>
      <p>{t('pc.eraseHelp')}</p>
      {receipt ? (
        <Status>{t('pc.erased', { id: receipt })}</Status>
      ) : (
        <form className="inline" onSubmit={(e) => void erase(e)}>
          <label>
            {t('pc.eraseConfirm')}
            <input value={confirm} onChange={(e) => setConfirm(e.target.value)} autoComplete="off" />
          </label>
          <button type="submit" className="danger" disabled={confirm !== 'ERASE'}>
            {t('pc.eraseButton')}
          </button>
        </form>
      )}
      {error ? <ErrorMessage error={error} /> : null}
    </section>
  );
}

type Notice = {
  title: string;
  intro: string;
  purposes: { purpose: string; title: string; description: string }[];
  rights?: { right: string; text: string }[];
};

function HowDataIsUsed() {
  const { t, locale } = useI18n();
  const lang = locale.startsWith('zh') ? 'zh' : locale;
  const api = useMemo(() => createApiClient(() => ({})), []);
  const load = useLoad(() => api.get<Notice>('/v1/privacy/notice', { locale: lang }), [api, lang]);
  return (
    <section aria-labelledby="h-how">
      <h2 id="h-how">{t('pc.how')}</h2>
      <Loaded load={load}>
        {(n) => (
          <div lang={lang}>
            <p>{n.intro}</p>
            <dl className="details">
              {n.purposes.map((p) => (
                <div key={p.purpose}>
                  <dt>{p.title}</dt>
                  <dd>{p.description}</dd>
                </div>
              ))}
            </dl>
            {n.rights ? (
              <ul>
                {n.rights.map((r) => (
                  <li key={r.right}>{r.text}</li>
                ))}
              </ul>
            ) : null}
          </div>
        )}
      </Loaded>
    </section>
  );
}
