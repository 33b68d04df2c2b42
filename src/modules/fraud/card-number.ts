/**
 * Full card numbers never enter Candor (PCI DSS scope, DESIGN §4.3). A scoring request is scanned as a whole —
 * every string and every number, at any depth — for a Luhn-valid run of 13–19 digits, optionally grouped by
 * spaces or dashes as people type them.
 */

/** True when `digits` (only 0-9) passes the Luhn check. */
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

// Standalone digit runs of 13–19 digits, optionally grouped by single spaces or dashes as cards are written.
// Longer runs (order ids, hashes) are not card numbers; the same rule as ingestion's scrubbing.
const CARD_CANDIDATE = /(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)/g;

/** True when the text holds a Luhn-valid 13–19 digit sequence anywhere. */
export function containsCardNumber(text: string): boolean {
  for (const match of text.matchAll(CARD_CANDIDATE)) {
    if (luhnValid(match[0].replace(/[ -]/g, ''))) return true;
  }
  return false;
}

/**
 * The JSON path of the first card number in a parsed request body, or null. Keys are checked too: a card number
 * used as an object key is still a card number.
 */
export function findCardNumber(value: unknown, path = '$', depth = 0): string | null {
  if (depth > 64) return null;
  if (typeof value === 'string') return containsCardNumber(value) ? path : null;
  if (typeof value === 'number' || typeof value === 'bigint') {
    return containsCardNumber(String(value)) ? path : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findCardNumber(value[i], `${path}[${i}]`, depth + 1);
      if (hit) return hit;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (containsCardNumber(k)) return `${path} (a key)`;
      const hit = findCardNumber(v, `${path}.${k}`, depth + 1);
      if (hit) return hit;
    }
  }
  return null;
}
