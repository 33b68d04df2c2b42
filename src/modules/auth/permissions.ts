/**
 * Roles and what they may do: the one table every authorisation decision reads. Least privilege: each
 * role gets the permissions its job needs and nothing else; only owner and admin manage staff and keys,
 * and only the owner can make or remove an owner.
 */
import type { StaffRole } from '../../kernel/http.ts';

export const STAFF_ROLES = [
  'owner',
  'admin',
  'analyst',
  'marketer',
  'support',
  'privacy_officer',
  'security_officer',
] as const satisfies readonly StaffRole[];

export const PERMISSIONS = [
  /** Consent configuration: purposes, notices, banner texts. */
  'consent:admin',
  /** Consent ledger records of individual shoppers. */
  'consent:read',
  'catalog:read',
  'catalog:write',
  /** Ingestion health: sources, quarantine reasons (no personal data). */
  'ingest:read',
  'sources:admin',
  /** Secret server keys. */
  'keys:admin',
  'audit:read',
  'security:read',
  'staff:admin',
  /** Raw personal data of a shopper (the PII vault). */
  'pii:read',
  /** A customer's personal data while handling their conversation or order, for that purpose only. */
  'pii:read_assigned',
  'dsar:manage',
  /** Record of processing activities, retention settings. */
  'privacy:admin',
  /** Aggregates and pseudonymous data. */
  'analytics:read',
  'segments:read',
  'segments:write',
  'marketing:read',
  'marketing:write',
  'experiments:write',
  'recommend:admin',
  'chatbot:admin',
  'conversations:read',
  /** Answering shoppers in handed-off chat conversations. */
  'chat:agent',
  'orders:read',
  'loyalty:admin',
  'fraud:read',
  /** Scoring orders and reporting their outcomes (a shop backend's server key). */
  'fraud:score',
  /** The fraud review queue: see cases and their reasons, approve or decline. */
  'fraud:review',
  /** Fraud rules, their dry-runs and model training. */
  'fraud:admin',
  'settings:admin',
  /** Claiming staff messages (password-reset links) from the outbox: the shop's mailer, as a server key. */
  'mail:send',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

/**
 * Every permission a person may hold. `mail:send` is left out: a staff member able to read the outbox
 * could read a colleague's reset link; only the mailer's server key carries it.
 */
const ALL: readonly Permission[] = PERMISSIONS.filter((p) => p !== 'mail:send');

export const ROLE_PERMISSIONS: Readonly<Record<StaffRole, readonly Permission[]>> = {
  owner: ALL,
  admin: ALL,
  analyst: ['analytics:read', 'segments:read', 'catalog:read', 'ingest:read', 'marketing:read', 'fraud:read'],
  marketer: [
    'analytics:read',
    'segments:read',
    'segments:write',
    'marketing:read',
    'marketing:write',
    'experiments:write',
    'catalog:read',
    'catalog:write',
    'recommend:admin',
    'loyalty:admin',
  ],
  support: [
    'pii:read_assigned',
    'conversations:read',
    'chat:agent',
    'orders:read',
    'catalog:read',
    'consent:read',
  ],
  privacy_officer: [
    'dsar:manage',
    'consent:read',
    'consent:admin',
    'privacy:admin',
    'audit:read',
    'analytics:read',
    'pii:read',
  ],
  security_officer: [
    'audit:read',
    'security:read',
    'ingest:read',
    'fraud:read',
    'fraud:review',
    'fraud:admin',
  ],
};

export function isStaffRole(value: unknown): value is StaffRole {
  return typeof value === 'string' && (STAFF_ROLES as readonly string[]).includes(value);
}

export function roleHas(role: StaffRole, permission: string): boolean {
  return (ROLE_PERMISSIONS[role] as readonly string[]).includes(permission);
}

/** Scopes a secret server key may carry: the permissions, minus managing staff and keys themselves. */
export const SERVER_KEY_SCOPES: readonly Permission[] = PERMISSIONS.filter(
  (p) => p !== 'staff:admin' && p !== 'keys:admin',
);

/** Only owners create, change or remove owners; an admin manages every other role. */
export function canAssignRole(actor: StaffRole, role: StaffRole): boolean {
  if (actor === 'owner') return true;
  return actor === 'admin' && role !== 'owner';
}

/**
 * Field-level response allow-lists: a response object is reduced to exactly these fields, so adding a
 * column to a table never leaks it through an API by accident (BOPLA).
 */
export function pick<T extends Record<string, unknown>, K extends keyof T>(
  row: T,
  fields: readonly K[],
): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const f of fields) if (Object.hasOwn(row, f)) out[f] = row[f];
  return out;
}
