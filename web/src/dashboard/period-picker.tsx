/** The analytics period: presets plus free from/to dates; the comparison is the period just before it. */
import { useState, type FormEvent } from 'react';
import { DAY_MS, isoDay } from '../shared/format.ts';
import { useI18n } from '../shared/i18n.ts';
import { usePeriod, type Period } from './session.ts';

export function periodDays(p: Period): number {
  return Math.round((Date.parse(p.to) - Date.parse(p.from)) / DAY_MS) + 1;
}

/** The same number of days, ending the day before `from`. */
export function previousPeriod(p: Period): Period {
  const days = periodDays(p);
  const end = Date.parse(p.from) - DAY_MS;
  return { from: isoDay(end - (days - 1) * DAY_MS), to: isoDay(end) };
}

export function PeriodPicker() {
  const { t } = useI18n();
  const { period, setPeriod } = usePeriod();
  const [draft, setDraft] = useState(period);
  const preset = (days: number) => {
    const to = Date.now();
    const p = { from: isoDay(to - (days - 1) * DAY_MS), to: isoDay(to) };
    setDraft(p);
    setPeriod(p);
  };
  const apply = (e: FormEvent) => {
    e.preventDefault();
    if (draft.from && draft.to && draft.from <= draft.to) setPeriod(draft);
  };
  return (
    <form className="period" onSubmit={apply} aria-label={t('range.preset')}>
      <div className="presets" role="group" aria-label={t('range.preset')}>
        <button type="button" onClick={() => preset(7)}>
          {t('range.last7')}
        </button>
        <button type="button" onClick={() => preset(30)}>
          {t('range.last30')}
        </button>
        <button type="button" onClick={() => preset(90)}>
          {t('range.last90')}
        </button>
      </div>
      <label>
        {t('range.from')}
        <input
          type="date"
          name="from"
          value={draft.from}
          max={draft.to}
          onChange={(e) => setDraft({ ...draft, from: e.target.value })}
        />
      </label>
      <label>
        {t('range.to')}
        <input
          type="date"
          name="to"
          value={draft.to}
          min={draft.from}
          onChange={(e) => setDraft({ ...draft, to: e.target.value })}
        />
      </label>
      <button type="submit">{t('app.apply')}</button>
    </form>
  );
}
