/**
 * Data-subject request clocks per jurisdiction. Candor answers in seconds; the deadline is what the law
 * allows and what the staff queue counts down to when a request waits for verification or a human.
 */
export const JURISDICTIONS = ['gdpr', 'ccpa', 'uu_pdp', 'pipl'] as const;
export type Jurisdiction = (typeof JURISDICTIONS)[number];

export type JurisdictionRule = { law: string; deadline: string };

export const JURISDICTION_RULES: Readonly<Record<Jurisdiction, JurisdictionRule>> = {
  gdpr: { law: 'GDPR Art. 12(3)', deadline: 'one calendar month' },
  ccpa: { law: 'CCPA §1798.130', deadline: '45 days' },
  uu_pdp: { law: 'UU PDP (Law 27/2022) Art. 32–34', deadline: '3 × 24 hours' },
  // PIPL Art. 50 says "timely"; 15 days is the period the national standard GB/T 35273 uses, so we hold ourselves to it.
  pipl: { law: 'PIPL Art. 50', deadline: 'timely (15 days)' },
};

export function isJurisdiction(value: unknown): value is Jurisdiction {
  return typeof value === 'string' && (JURISDICTIONS as readonly string[]).includes(value);
}

const DAY = 24 * 60 * 60 * 1000;

/** Adds calendar months in UTC; a day past the end of the shorter month clamps to its last day (31 Jan → 28/29 Feb). */
export function addCalendarMonths(ts: number, months: number): number {
  const d = new Date(ts);
  const day = d.getUTCDate();
  const target = new Date(ts);
  target.setUTCDate(1);
  target.setUTCMonth(target.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return target.getTime();
}

/** When a request received at `receivedAt` must be answered, epoch ms. */
export function deadlineFor(jurisdiction: Jurisdiction, receivedAt: number): number {
  switch (jurisdiction) {
    case 'gdpr':
      return addCalendarMonths(receivedAt, 1);
    case 'ccpa':
      return receivedAt + 45 * DAY;
    case 'uu_pdp':
      return receivedAt + 3 * DAY;
    case 'pipl':
      return receivedAt + 15 * DAY;
  }
}
