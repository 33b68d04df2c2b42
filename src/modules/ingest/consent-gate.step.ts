/**
 * The consent gate: an event is stored only when its subject had consent for the event's purpose at
 * event time. The caller looks the state up (consent ledger, all linked subject ids) and passes it in,
 * so this step stays a pure decision.
 */
import { NECESSARY_TYPES, purposeOf, type EventType } from './event-types.ts';
import { drop, ok, type StepResult } from './step.ts';

export type ConsentAtEventTime = { granted: boolean; consentId: string | null };

export type GatedPurpose = 'analytics' | 'necessary';

export type Gated<T> = T & { purpose: GatedPurpose; consentId: string | null };

/** The purpose whose consent decides an event of this type. */
export function gatePurpose(type: EventType): 'analytics' {
  return purposeOf(type);
}

export function consentGate<T extends { type: EventType }>(
  event: T,
  consent: ConsentAtEventTime,
): StepResult<Gated<T>> {
  if (consent.granted && consent.consentId !== null) {
    return ok({ ...event, purpose: gatePurpose(event.type), consentId: consent.consentId });
  }
  // Orders are kept for the order relationship without consent, labelled so profiling leaves them out.
  if (NECESSARY_TYPES.has(event.type)) return ok({ ...event, purpose: 'necessary', consentId: null });
  return drop('no_consent');
}
