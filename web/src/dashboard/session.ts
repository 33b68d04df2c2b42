/** The signed-in staff member, what their role may do, and the API client that sends their CSRF token. */
import { createContext, useContext } from 'react';
import { ROLE_PERMISSIONS, type Permission } from '../../../src/modules/auth/permissions.ts';
import type { ApiClient } from '../shared/api.ts';

export type Role = keyof typeof ROLE_PERMISSIONS;
export type Staff = {
  id: string;
  email: string;
  role: Role;
  mfaEnabled: boolean;
  disabled: boolean;
  createdAt: number;
};

export type Session = {
  staff: Staff;
  api: ApiClient;
  can: (permission: Permission) => boolean;
  signOut: () => Promise<void>;
};

export function permissionsOf(role: Role): (p: Permission) => boolean {
  const granted = new Set<string>(ROLE_PERMISSIONS[role]);
  return (p) => granted.has(p);
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in dashboard');
  return s;
}

/** The analytics period every report shares (inclusive UTC days, YYYY-MM-DD). */
export type Period = { from: string; to: string };
export const PeriodContext = createContext<{ period: Period; setPeriod: (p: Period) => void }>({
  period: { from: '', to: '' },
  setPeriod: () => undefined,
});
export function usePeriod() {
  return useContext(PeriodContext);
}
