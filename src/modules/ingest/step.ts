/**
 * What every ingest step returns: the (transformed) event, or a decision not to store it. Steps never
 * throw for bad events (DESIGN.md §3). `drop` is a policy outcome (no consent, a bot); `quarantine`
 * means the event itself is invalid and is kept — as its reason, without content — for the shop to see.
 */
export type DropReason = 'no_consent' | 'bot';

export type QuarantineReason =
  | 'invalid_event'
  | 'unknown_event'
  | 'missing_identity'
  | 'event_too_large'
  | 'too_deep'
  | 'timestamp_too_old'
  | 'invalid_timestamp';

export type StepResult<T> =
  | { readonly kind: 'ok'; readonly event: T }
  | { readonly kind: 'drop'; readonly reason: DropReason }
  | { readonly kind: 'quarantine'; readonly reason: QuarantineReason; readonly detail?: string };

export const ok = <T>(event: T): StepResult<T> => ({ kind: 'ok', event });
export const drop = <T>(reason: DropReason): StepResult<T> => ({ kind: 'drop', reason });
export const quarantine = <T>(reason: QuarantineReason, detail?: string): StepResult<T> =>
  detail === undefined ? { kind: 'quarantine', reason } : { kind: 'quarantine', reason, detail };
