/**
 * A customer's contact details, for a stated purpose only (pii:read). The server audits every read and
 * flags bulk reading; roles without pii:read never see this page or its link.
 */
import { useState, type FormEvent } from 'react';
import { useI18n } from '../../shared/i18n.ts';
import { ErrorMessage } from '../../shared/ui.tsx';
import { useSession } from '../session.ts';

const PURPOSES = [
  'order_support',
  'data_subject_request',
  'fraud_investigation',
  'legal_obligation',
] as const;
type Details = { email?: string; phone?: string; name?: string; address?: string };

export function CustomersPage() {
  const { t } = useI18n();
  const { api } = useSession();
  const [subjectId, setSubjectId] = useState('');
  const [purpose, setPurpose] = useState<(typeof PURPOSES)[number]>('order_support');
  const [details, setDetails] = useState<Details>();
  const [error, setError] = useState<unknown>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setDetails(undefined);
    try {
      setDetails(await api.send<Details>('POST', '/v1/profiles/pii-read', { subjectId, purpose }));
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section aria-labelledby="h-customers">
      <h1 id="h-customers">{t('customers.title')}</h1>
      <p className="muted">{t('customers.help')}</p>
      <form className="inline" onSubmit={(e) => void submit(e)}>
        <label>
          {t('customers.subject')}
          <input name="subjectId" required value={subjectId} onChange={(e) => setSubjectId(e.target.value)} />
        </label>
        <label>
          {t('customers.purpose')}
          <select
            name="purpose"
            value={purpose}
            onChange={(e) => setPurpose(e.target.value as (typeof PURPOSES)[number])}
          >
            {PURPOSES.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary">
          {t('customers.show')}
        </button>
      </form>
      {error ? <ErrorMessage error={error} /> : null}
      {details ? (
        <dl className="details">
          {(['name', 'email', 'phone', 'address'] as const).map((k) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{details[k] ?? '—'}</dd>
            </div>
          ))}
        </dl>
      ) : null}
    </section>
  );
}
