/**
 * Recommendation preview beside the fairness report: the list a test shopper (customer id) or session
 * (device id) would get on a surface, each item with its explanation; a diversity (λ) slider that asks
 * again, and the non-personalised list a shopper with personalisation off would see. A preview counts no
 * impression, and naming a shopper is audited by the API.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { DataTable } from '../../shared/charts.tsx';
import { fmtNumber } from '../../shared/format.ts';
import { useI18n, type Locale } from '../../shared/i18n.ts';
import { ErrorMessage } from '../../shared/ui.tsx';
import { useSession } from '../session.ts';

const SURFACES = ['for-you', 'similar', 'bought-together', 'session'] as const;
type Reason = { kind: string; en: string; id: string; zh: string };
type Preview = {
  surface: string;
  personalised: boolean;
  modelVersion: number;
  items: { itemId: string; score: number; reason: Reason }[];
};

const reasonIn = (r: Reason, locale: Locale) =>
  locale === 'id' ? r.id : locale.startsWith('zh') ? r.zh : r.en;

export function RecommendPreviewPage() {
  const { t, locale } = useI18n();
  const { api } = useSession();
  const [who, setWho] = useState<'userId' | 'anonymousId'>('userId');
  const [id, setId] = useState('');
  const [surface, setSurface] = useState<(typeof SURFACES)[number]>('for-you');
  const [itemId, setItemId] = useState('');
  const [lambda, setLambda] = useState(0.8);
  const [personalised, setPersonalised] = useState(true);
  // The question last submitted; the slider and the toggle re-ask it at once.
  const [asked, setAsked] = useState<{ who: string; id: string; surface: string; itemId: string }>();
  const [result, setResult] = useState<Preview>();
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    if (!asked) return;
    let stale = false;
    const timer = setTimeout(() => {
      api
        .get<Preview>('/v1/recommendations/preview', {
          surface: asked.surface,
          ...(asked.id ? { [asked.who]: asked.id } : {}),
          ...(asked.itemId ? { itemId: asked.itemId } : {}),
          lambda,
          personalised: personalised ? 'true' : 'false',
          limit: 10,
        })
        .then(
          (r) => {
            if (stale) return;
            setResult(r);
            setError(undefined);
          },
          (e: unknown) => {
            if (stale) return;
            setError(e);
          },
        );
    }, 200);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [api, asked, lambda, personalised]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setAsked({ who, id: id.trim(), surface, itemId: itemId.trim() });
  };

  return (
    <section aria-labelledby="h-recs">
      <h1 id="h-recs">{t('recs.title')}</h1>
      <p className="muted">{t('recs.help')}</p>
      <form className="card" onSubmit={submit}>
        <div className="controls">
          <label>
            {t('recs.who')}
            <select value={who} onChange={(e) => setWho(e.target.value as typeof who)}>
              <option value="userId">{t('recs.customer')}</option>
              <option value="anonymousId">{t('recs.session')}</option>
            </select>
          </label>
          <label>
            {t('recs.id')}
            <input value={id} maxLength={256} onChange={(e) => setId(e.target.value)} />
          </label>
          <label>
            {t('recs.surface')}
            <select value={surface} onChange={(e) => setSurface(e.target.value as typeof surface)}>
              {SURFACES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('recs.item')}
            <input
              value={itemId}
              maxLength={256}
              required={surface === 'similar' || surface === 'bought-together'}
              onChange={(e) => setItemId(e.target.value)}
            />
          </label>
          <button type="submit" className="primary">
            {t('recs.show')}
          </button>
        </div>
        <div className="controls">
          <label>
            {t('recs.lambda', { v: fmtNumber(locale, lambda, 2) })}
            <input
              type="range"
              min={0}
              max={1}
              step={0.05}
              value={lambda}
              onChange={(e) => setLambda(Number(e.target.value))}
              aria-valuetext={fmtNumber(locale, lambda, 2)}
            />
          </label>
          <label>
            <input
              type="checkbox"
              checked={!personalised}
              onChange={(e) => setPersonalised(!e.target.checked)}
            />{' '}
            {t('recs.nonPersonalised')}
          </label>
        </div>
        <p className="muted">{t('recs.lambdaHelp')}</p>
      </form>
      {error ? <ErrorMessage error={error} /> : null}
      {result ? (
        <div aria-live="polite">
          <p>
            {result.personalised ? t('recs.isPersonalised') : t('recs.notPersonalised')} ·{' '}
            {t('recs.model', { v: result.modelVersion })}
          </p>
          <DataTable
            caption={t('recs.list')}
            csvName="recommendation-preview.csv"
            rows={result.items}
            rowKey={(i) => i.itemId}
            columns={[
              { key: 'i', label: t('cart.product'), value: (i) => i.itemId },
              { key: 's', label: t('fraud.score'), value: (i) => i.score, numeric: true },
              { key: 'k', label: t('recs.kind'), value: (i) => i.reason.kind },
              { key: 'r', label: t('recs.reason'), value: (i) => reasonIn(i.reason, locale) },
            ]}
          />
        </div>
      ) : null}
    </section>
  );
}
