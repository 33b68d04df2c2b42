/**
 * Scrubbing: personal data that slipped into fields meant for other things. Card-number-like strings
 * (Luhn-valid, 13–19 digits) and e-mail addresses are replaced in every string; phone numbers in
 * free-text fields (paths, queries, titles, review text…) — not in ids, where digit runs are legitimate.
 */
import type { PropValue } from './minimise-event.step.ts';
import type { PseudonymousEvent } from './pseudonymise-event.step.ts';
import { ok, type StepResult } from './step.ts';

export const CARD_MASK = '[card]';
export const EMAIL_MASK = '[email]';
export const PHONE_MASK = '[phone]';

/** The Luhn checksum (ISO/IEC 7812) card numbers carry. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

// Digit runs, optionally grouped by single spaces or dashes (as cards are written).
const CARD_CANDIDATE = /(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])/g;
const EMAIL = /[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/gi;
// International (+…/00…), trunk-prefixed local (0…), bracketed area codes, and NANP 3-3-4 numbers.
const PHONE_CANDIDATE = /(?<![\w+])(?:\+|\(\d)?\d[\d\s().-]{6,22}\d(?![\w])/g;

function looksLikePhone(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '');
  if (digits.length < 8 || digits.length > 15) return false;
  if (candidate.startsWith('+') || candidate.startsWith('(') || candidate.startsWith('0')) return true;
  return /^\d{3}[\s.-]\d{3}[\s.-]\d{4}$/.test(candidate);
}

export function scrubCards(s: string): string {
  return s.replace(CARD_CANDIDATE, (m) => (luhnValid(m.replace(/[ -]/g, '')) ? CARD_MASK : m));
}

/** Cards and e-mail addresses: for every string, ids included. */
export function scrubIdentifierLike(s: string): string {
  return scrubCards(s).replace(EMAIL, EMAIL_MASK);
}

/** Cards, e-mail addresses and phone numbers: for free text. */
export function scrubText(s: string): string {
  return scrubIdentifierLike(s).replace(PHONE_CANDIDATE, (m) => (looksLikePhone(m) ? PHONE_MASK : m));
}

/** Props whose values are identifiers of things (not people), where phone-like digit runs are normal. */
const ID_PROPS: ReadonlySet<string> = new Set([
  'sku',
  'cartId',
  'listId',
  'coupon',
  'productId',
  'previousIds',
]);

function scrubValue(v: PropValue, key: string): PropValue {
  if (typeof v === 'string') return ID_PROPS.has(key) ? scrubIdentifierLike(v) : scrubText(v);
  if (Array.isArray(v)) return v.map((x) => scrubValue(x, key));
  if (typeof v === 'object') {
    const out: Record<string, PropValue> = {};
    for (const [k, x] of Object.entries(v)) out[k] = scrubValue(x, k);
    return out;
  }
  return v;
}

const orNull = (f: (s: string) => string, v: string | null) => (v === null ? null : f(v));

export function scrubEvent(event: PseudonymousEvent): StepResult<PseudonymousEvent> {
  const props: Record<string, PropValue> = {};
  for (const [k, v] of Object.entries(event.props)) props[k] = scrubValue(v, k);
  return ok({
    ...event,
    path: orNull(scrubText, event.path),
    referrer: orNull(scrubText, event.referrer),
    category: orNull(scrubText, event.category),
    query: orNull(scrubText, event.query),
    utmSource: orNull(scrubText, event.utmSource),
    productId: orNull(scrubIdentifierLike, event.productId),
    orderId: orNull(scrubIdentifierLike, event.orderId),
    props,
  });
}
