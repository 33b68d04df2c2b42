/**
 * Sign-in: email + password, then the authenticator code. On the first sign-in the server returns the
 * otpauth URI: it is shown as a QR code (SVG as a data: image, allowed by the CSP) and as text, and the
 * recovery codes that follow are shown once.
 */
import { useState, type FormEvent } from 'react';
import { renderSVG } from 'uqr';
import type { ApiClient } from '../shared/api.ts';
import { useI18n } from '../shared/i18n.ts';
import { ErrorMessage, LanguagePicker } from '../shared/ui.tsx';
import type { Staff } from './session.ts';

type Challenge = { challengeToken: string; enrollment: { totpUri: string } | null };
type Verified = { staff: Staff; csrfToken: string; recoveryCodes: string[] | null };

export function Login(props: { api: ApiClient; onSignedIn(v: { staff: Staff; csrfToken: string }): void }) {
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const [challenge, setChallenge] = useState<Challenge>();
  const [recovery, setRecovery] = useState<Verified>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submitPassword = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setChallenge(await props.api.send<Challenge>('POST', '/v1/auth/login', { email, password }));
      setPassword('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const submitCode = async (e: FormEvent) => {
    e.preventDefault();
    if (!challenge) return;
    setBusy(true);
    setError(undefined);
    try {
      const v = await props.api.send<Verified>('POST', '/v1/auth/mfa/verify', {
        challengeToken: challenge.challengeToken,
        ...(useRecovery ? { recoveryCode: code.trim() } : { code: code.replace(/\s+/g, '') }),
      });
      if (v.recoveryCodes && v.recoveryCodes.length > 0) setRecovery(v);
      else props.onSignedIn(v);
    } catch (err) {
      setError(err);
      setCode('');
    } finally {
      setBusy(false);
    }
  };

  if (recovery) {
    return (
      <main className="login" id="main">
        <h1>{t('login.recoveryTitle')}</h1>
        <p>{t('login.recoveryHelp')}</p>
        <ul className="codes">
          {recovery.recoveryCodes?.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ul>
        <button type="button" className="primary" onClick={() => props.onSignedIn(recovery)}>
          {t('login.recoveryDone')}
        </button>
      </main>
    );
  }

  return (
    <main className="login" id="main">
      <div className="login-top">
        <LanguagePicker />
      </div>
      <h1>{challenge?.enrollment ? t('login.enrolTitle') : t('login.title')}</h1>
      {error ? <ErrorMessage error={error} /> : null}
      {!challenge ? (
        <form onSubmit={(e) => void submitPassword(e)}>
          <label>
            {t('login.email')}
            <input
              type="email"
              name="email"
              autoComplete="username"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </label>
          <label>
            {t('login.password')}
            <input
              type="password"
              name="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          <button type="submit" className="primary" disabled={busy}>
            {t('login.submit')}
          </button>
        </form>
      ) : (
        <form onSubmit={(e) => void submitCode(e)}>
          {challenge.enrollment ? (
            <div className="enrol">
              <p>{t('login.enrolHelp')}</p>
              <img
                className="qr"
                width={200}
                height={200}
                alt={t('login.enrolUri')}
                src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(renderSVG(challenge.enrollment.totpUri))}`}
              />
              <label>
                {t('login.enrolUri')}
                <input type="text" readOnly value={challenge.enrollment.totpUri} name="totpUri" />
              </label>
            </div>
          ) : null}
          {useRecovery ? (
            <label>
              {t('login.recoveryCode')}
              <input
                type="text"
                name="recoveryCode"
                autoComplete="off"
                required
                value={code}
                onChange={(e) => setCode(e.target.value)}
              />
            </label>
          ) : (
            <>
              <label>
                {t('login.code')}
                <input
                  type="text"
                  name="code"
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  pattern="[0-9 ]{6,8}"
                  required
                  aria-describedby="code-help"
                  value={code}
                  onChange={(e) => setCode(e.target.value)}
                />
              </label>
              <p id="code-help" className="muted">
                {t('login.codeHelp')}
              </p>
            </>
          )}
          <button type="submit" className="primary" disabled={busy}>
            {t('login.verify')}
          </button>
          {challenge.enrollment ? null : (
            <button
              type="button"
              className="link"
              onClick={() => {
                setUseRecovery(!useRecovery);
                setCode('');
              }}
            >
              {useRecovery ? t('login.useCode') : t('login.useRecovery')}
            </button>
          )}
        </form>
      )}
    </main>
  );
}
