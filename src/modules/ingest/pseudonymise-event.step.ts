/**
 * Pseudonymisation: the shop's customer id, the device id and the session id are replaced by keyed
 * HMACs (stable, not reversible without the shop's key). Direct identifiers in identify traits (e-mail,
 * phone, name, address) are taken out here for the PII vault; they never enter an event.
 */
import type { Pseudonymizer } from '../../kernel/crypto.ts';
import type { MinimalEvent } from './minimise-event.step.ts';
import { ok, type StepResult } from './step.ts';

/** Pseudonym namespaces; must match the consent module's and the shopper token's (`user`, `device`). */
export const NAMESPACE = { user: 'user', device: 'device', session: 'session' } as const;

export type PseudonymousEvent = Omit<MinimalEvent, 'userId' | 'anonymousId' | 'previousId' | 'sessionId'> & {
  subjectId: string;
  userId: string | null;
  anonymousId: string | null;
  sessionId: string | null;
};

export type Identifiers = { email?: string; phone?: string; name?: string; address?: string };

const IDENTIFIER_KEYS: Record<keyof Identifiers, readonly string[]> = {
  email: ['email'],
  phone: ['phone', 'phone_number', 'phoneNumber'],
  name: ['name', 'first_name', 'firstName', 'last_name', 'lastName'],
  address: ['address'],
};

/** Direct identifiers in identify traits, as strings (an address object becomes its JSON). */
export function extractIdentifiers(traits: Readonly<Record<string, unknown>>): Identifiers {
  const out: Identifiers = {};
  for (const [field, keys] of Object.entries(IDENTIFIER_KEYS) as [keyof Identifiers, readonly string[]][]) {
    const parts: string[] = [];
    for (const k of keys) {
      if (!Object.hasOwn(traits, k)) continue;
      const v = traits[k];
      if (typeof v === 'string' && v.trim() !== '') parts.push(v.trim().slice(0, 1000));
      else if (typeof v === 'object' && v !== null) parts.push(JSON.stringify(v).slice(0, 2000));
    }
    if (parts.length > 0) out[field] = parts.join(' ');
  }
  return out;
}

/** The subject ids an event speaks for (customer pseudonym first), as the consent ledger keys them. */
export function subjectIdsOf(
  pseudonymize: Pseudonymizer,
  ids: { userId: string | null; anonymousId: string | null },
) {
  const out: string[] = [];
  if (ids.userId !== null) out.push(pseudonymize(NAMESPACE.user, ids.userId));
  if (ids.anonymousId !== null) out.push(pseudonymize(NAMESPACE.device, ids.anonymousId));
  return out;
}

export function pseudonymiseEvent(
  event: MinimalEvent,
  pseudonymize: Pseudonymizer,
): StepResult<PseudonymousEvent> {
  const { userId, anonymousId, previousId, sessionId, ...rest } = event;
  const user = userId === null ? null : pseudonymize(NAMESPACE.user, userId);
  const device = anonymousId === null ? null : pseudonymize(NAMESPACE.device, anonymousId);
  const props = { ...rest.props };
  if (previousId !== null) {
    // Segment's previousId is usually a device id, sometimes an earlier customer id: keep both readings.
    props.previousIds = [
      pseudonymize(NAMESPACE.device, previousId),
      pseudonymize(NAMESPACE.user, previousId),
    ];
  }
  return ok({
    ...rest,
    props,
    subjectId: (user ?? device)!,
    userId: user,
    anonymousId: device,
    sessionId: sessionId === null ? null : pseudonymize(NAMESPACE.session, sessionId),
  });
}
