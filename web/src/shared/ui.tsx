/** Shared pieces of both web apps: status messages, the language picker, the page frame. */
import type { ReactNode } from 'react';
import { ApiError } from './api.ts';
import { LOCALES, LOCALE_NAMES, useI18n, type Locale } from './i18n.ts';
import type { Load } from './hooks.ts';

export function ErrorMessage(props: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  const e = props.error;
  const message =
    e instanceof ApiError && e.status === 403
      ? t('app.noAccess')
      : e instanceof Error
        ? e.message
        : String(e);
  return (
    <div role="alert" className="notice error">
      <p>{message}</p>
      {e instanceof ApiError && e.requestId ? <p className="muted">Request id: {e.requestId}</p> : null}
      {props.onRetry ? (
        <button type="button" onClick={props.onRetry}>
          {t('app.retry')}
        </button>
      ) : null}
    </div>
  );
}

export function Status(props: { children: ReactNode }) {
  return (
    <p role="status" className="notice ok">
      {props.children}
    </p>
  );
}

/** Renders a loaded value, or the loading line, or the error with a retry button. */
export function Loaded<T>(props: { load: Load<T>; children: (data: T) => ReactNode }) {
  const { t } = useI18n();
  const { load } = props;
  if (load.error) return <ErrorMessage error={load.error} onRetry={load.reload} />;
  if (load.data === undefined)
    return (
      <p role="status" className="muted">
        {t('app.loading')}
      </p>
    );
  return <>{props.children(load.data)}</>;
}

export function LanguagePicker() {
  const { t, locale, setLocale } = useI18n();
  return (
    <label className="lang">
      {t('app.language')}{' '}
      <select value={locale} onChange={(e) => setLocale(e.target.value as Locale)}>
        {LOCALES.map((l) => (
          <option key={l} value={l} lang={l}>
            {LOCALE_NAMES[l]}
          </option>
        ))}
      </select>
    </label>
  );
}
