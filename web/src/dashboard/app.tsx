/**
 * The dashboard shell: session check, sign-in, role-aware navigation (a page the role may not use is
 * neither linked nor rendered), the shared analytics period and the language.
 */
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, createApiClient } from '../shared/api.ts';
import { DAY_MS, isoDay } from '../shared/format.ts';
import { I18nContext, matchLocale, translator, useI18n, type Locale } from '../shared/i18n.ts';
import { ErrorMessage, LanguagePicker } from '../shared/ui.tsx';
import { Login } from './login.tsx';
import { NAV, PAGES, type PageId } from './nav.ts';
import { Link, navigate, usePath } from './router.tsx';
import {
  PeriodContext,
  SessionContext,
  permissionsOf,
  useSession,
  type Period,
  type Session,
  type Staff,
} from './session.ts';
import {
  CartPage,
  FunnelsPage,
  OverviewPage,
  RetentionPage,
  ReviewsPage,
  SearchPage,
} from './pages/analytics.tsx';
import { CustomersPage } from './pages/customers.tsx';
import { DemographicsPage, DwellPage, ForecastsPage, PathsPage } from './pages/insights.tsx';
import { CampaignsPage, ExperimentsPage, LoyaltyPage, SegmentsPage } from './pages/marketing.tsx';
import { RecommendPreviewPage } from './pages/recommendations.tsx';
import { ChatAnalyticsPage, ConsentStatsPage, FraudRulesPage } from './pages/tools.tsx';
import { FairnessPage, FraudPage, InboxPage } from './pages/operations.tsx';
import { ConsentPage, DataRetentionPage, DsarPage, ProcessingPage } from './pages/privacy.tsx';
import { AlertsPage, AuditPage, KeysPage, StaffPage } from './pages/security.tsx';

const PAGE_COMPONENTS: Record<PageId, () => ReactNode> = {
  overview: OverviewPage,
  funnels: FunnelsPage,
  search: SearchPage,
  cart: CartPage,
  retention: RetentionPage,
  reviews: ReviewsPage,
  paths: PathsPage,
  dwell: DwellPage,
  demographics: DemographicsPage,
  forecasts: ForecastsPage,
  segments: SegmentsPage,
  campaigns: CampaignsPage,
  experiments: ExperimentsPage,
  loyalty: LoyaltyPage,
  'recs-preview': RecommendPreviewPage,
  'fraud-rules': FraudRulesPage,
  'chat-analytics': ChatAnalyticsPage,
  'consent-stats': ConsentStatsPage,
  customers: CustomersPage,
  dsar: DsarPage,
  consent: ConsentPage,
  'data-retention': DataRetentionPage,
  processing: ProcessingPage,
  staff: StaffPage,
  keys: KeysPage,
  audit: AuditPage,
  alerts: AlertsPage,
  fraud: FraudPage,
  inbox: InboxPage,
  fairness: FairnessPage,
};

const LOCALE_KEY = 'candor.dashboard.locale';

function initialLocale(): Locale {
  return matchLocale(localStorage.getItem(LOCALE_KEY) ?? navigator.language);
}

function defaultPeriod(): Period {
  const today = Date.now();
  return { from: isoDay(today - 29 * DAY_MS), to: isoDay(today) };
}

export function App() {
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  const i18n = useMemo(
    () => ({
      locale,
      t: translator(locale),
      setLocale: (l: Locale) => {
        localStorage.setItem(LOCALE_KEY, l);
        setLocaleState(l);
      },
    }),
    [locale],
  );
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  const [auth, setAuth] = useState<{ staff: Staff; csrfToken: string } | null | undefined>(undefined);
  const [bootError, setBootError] = useState<unknown>();
  const csrf = auth?.csrfToken;
  const api = useMemo(
    () =>
      createApiClient(
        () => (csrf ? { 'X-CSRF-Token': csrf } : {}),
        // A signed-in page whose session ended goes back to sign-in instead of showing errors.
        () => {
          if (csrf) setAuth(null);
        },
      ),
    [csrf],
  );

  const check = useCallback(() => {
    setBootError(undefined);
    api.get<{ staff: Staff; csrfToken: string }>('/v1/auth/me').then(setAuth, (e: unknown) => {
      if (e instanceof ApiError && e.status === 401) setAuth(null);
      else setBootError(e);
    });
    // Only on start: later sign-ins set the session directly.
  }, []);
  useEffect(check, [check]);

  const [period, setPeriod] = useState<Period>(defaultPeriod);

  const session = useMemo<Session | undefined>(() => {
    if (!auth) return undefined;
    const can = permissionsOf(auth.staff.role);
    return {
      staff: auth.staff,
      api,
      can,
      signOut: async () => {
        try {
          await api.send('POST', '/v1/auth/logout');
        } finally {
          setAuth(null);
          navigate('/');
        }
      },
    };
  }, [auth, api]);

  let body: ReactNode;
  if (bootError) body = <ErrorMessage error={bootError} onRetry={check} />;
  else if (auth === undefined) body = <p role="status">{i18n.t('app.loading')}</p>;
  else if (!session) body = <Login api={api} onSignedIn={setAuth} />;
  else
    body = (
      <SessionContext.Provider value={session}>
        <PeriodContext.Provider value={{ period, setPeriod }}>
          <Shell />
        </PeriodContext.Provider>
      </SessionContext.Provider>
    );
  return <I18nContext.Provider value={i18n}>{body}</I18nContext.Provider>;
}

function Shell() {
  const path = usePath();
  const { t } = useI18n();
  const session = useSession();
  const allowed = PAGES.filter((p) => session.can(p.needs));
  const page = PAGES.find((p) => p.path === path);
  const home = allowed[0];

  useEffect(() => {
    if ((path === '/' || path === '') && home) navigate(home.path);
  }, [path, home]);

  useEffect(() => {
    const title = page ? t(page.label) : t('app.name');
    document.title = `${title} · Candor`;
  }, [page, t]);

  let content: ReactNode;
  if (path === '/' || path === '') content = home ? null : <p>{t('app.noAccess')}</p>;
  else if (!page) content = <p>{t('app.notFound')}</p>;
  else if (!session.can(page.needs))
    content = (
      <div role="alert" className="notice error">
        <h1>{t(page.label)}</h1>
        <p>{t('app.noAccess')}</p>
      </div>
    );
  else {
    const Page = PAGE_COMPONENTS[page.id];
    content = <Page />;
  }

  return (
    <div className="shell">
      <a className="skip" href="#main">
        {t('app.skip')}
      </a>
      <header className="top">
        <span className="brand">Candor</span>
        <span className="muted who">
          {t('app.signedInAs', {
            email: session.staff.email,
            role: t(`role.${session.staff.role}`),
          })}
        </span>
        <LanguagePicker />
        <button type="button" onClick={() => void session.signOut()}>
          {t('app.signOut')}
        </button>
      </header>
      <nav aria-label={t('app.mainNav')} className="side">
        {NAV.map((g) => {
          const pages = g.pages.filter((p) => session.can(p.needs));
          if (pages.length === 0) return null;
          return (
            <div key={g.label} className="nav-group">
              <h2>{t(g.label)}</h2>
              <ul>
                {pages.map((p) => (
                  <li key={p.id}>
                    <Link to={p.path} current={p.path === path}>
                      {t(p.label)}
                    </Link>
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
      </nav>
      <main id="main" tabIndex={-1}>
        {content}
      </main>
    </div>
  );
}
