/**
 * The purposes personal data may be processed for (DESIGN.md §5) and the legal basis of each. Only
 * `necessary` stands on contract / legal obligation; every other purpose needs the shopper's consent.
 */
export const PURPOSES = [
  'necessary',
  'analytics',
  'personalization',
  'marketing_email',
  'marketing_push',
  'advertising',
  'sale',
] as const;

export type Purpose = (typeof PURPOSES)[number];

export type LegalBasis = 'contract_or_legal_obligation' | 'consent';

export const LEGAL_BASIS: Readonly<Record<Purpose, LegalBasis>> = {
  necessary: 'contract_or_legal_obligation',
  analytics: 'consent',
  personalization: 'consent',
  marketing_email: 'consent',
  marketing_push: 'consent',
  advertising: 'consent',
  sale: 'consent',
};

/** Purposes a shopper can grant or refuse (everything but `necessary`). */
export const CONSENT_PURPOSES = PURPOSES.filter((p) => LEGAL_BASIS[p] === 'consent') as readonly Exclude<
  Purpose,
  'necessary'
>[];

/** What a Global Privacy Control signal opts out of: sharing with ad partners and sale (CCPA). */
export const GPC_PURPOSES = ['advertising', 'sale'] as const satisfies readonly Purpose[];

export function isPurpose(value: unknown): value is Purpose {
  return typeof value === 'string' && (PURPOSES as readonly string[]).includes(value);
}

export const CONSENT_METHODS = ['banner', 'gpc', 'api', 'import'] as const;
export type ConsentMethod = (typeof CONSENT_METHODS)[number];

/** Subject pseudonym namespaces, shared with auth (shopper tokens) and profiles: a customer id vs a device id. */
export const SUBJECT_NAMESPACE = { user: 'user', device: 'device' } as const;
