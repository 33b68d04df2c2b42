/**
 * Entity extraction (order ids, emails, phone numbers, amounts, dates, catalogue products) and the
 * redaction applied before any transcript is stored. Secrets a shopper should never send (passwords,
 * card numbers, one-time codes) are detected separately so the bot can warn about phishing.
 */
import { normalize } from './text.ts';

export type Entity =
  | { type: 'order_id'; value: string }
  | { type: 'email'; value: string }
  | { type: 'phone'; value: string }
  | { type: 'amount'; value: number; currency: string | null }
  | { type: 'date'; value: string }
  | { type: 'product'; value: string; title: string };

export type ProductName = { id: string; titles: string[] };

const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.[\p{L}]{2,}/gu;
// Order ids as shops print them: a prefix (ORD, INV, #) and 4+ digits, or 6–12 digit numbers after "order".
const ORDER_ID =
  /(?:#|\b(?:order|inv|pesanan|订单|訂單)[\s#:-]*(?:no\.?|number|nomor|号|號)?[\s#:-]*)([A-Z]{0,4}-?\d{4,12})\b|\b(ORD-?\d{4,12})\b/giu;
const PHONE = /(?:\+\d{1,3}[\s-]?)?(?:\(?\d{2,4}\)?[\s-]?){2,4}\d{3,4}/g;
const AMOUNT =
  /(?:(rp|idr|usd|\$|€|eur|£|gbp|¥|rmb|cny|sgd|s\$)\s?(\d[\d.,]*))|(\d[\d.,]*)\s?(rp|idr|usd|dollars?|eur|euros?|gbp|rmb|cny|yuan|元|块|rupiah|ribu|rb|k)\b/giu;
const DATE = /\b(\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4})\b|(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]/gu;
const CARD = /\b(?:\d[ -]?){13,19}\b/g;
const OTP_CONTEXT =
  /\b(otp|one[- ]time|verification code|kode(?: verifikasi| otp)?|验证码|驗證碼|code)\b\D{0,20}(\d{4,8})\b/giu;
const PASSWORD_CONTEXT =
  /\b(password|passwd|pwd|kata sandi|sandi|pin)\b\s*(?:is|adalah|:|=)?\s*(\S+)|(密码|密碼)\s*(?:是|:|：)?\s*(\S+)/giu;

/** Luhn check: card-like digit runs that pass it are treated as card numbers. */
export function luhnValid(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

function parseAmount(raw: string): number {
  // "1.250.000" (Indonesian thousands) and "1,250.50" (English) both parse to what a shopper meant.
  const s = raw.replace(/[.,]$/, '');
  if (/^\d{1,3}([.,]\d{3})+$/.test(s)) return Number(s.replace(/[.,]/g, ''));
  return Number(s.replace(/,/g, ''));
}

const CURRENCY: Record<string, string> = {
  rp: 'IDR',
  idr: 'IDR',
  rupiah: 'IDR',
  ribu: 'IDR',
  rb: 'IDR',
  k: 'IDR',
  usd: 'USD',
  $: 'USD',
  dollar: 'USD',
  dollars: 'USD',
  eur: 'EUR',
  '€': 'EUR',
  euro: 'EUR',
  euros: 'EUR',
  gbp: 'GBP',
  '£': 'GBP',
  '¥': 'CNY',
  rmb: 'CNY',
  cny: 'CNY',
  yuan: 'CNY',
  元: 'CNY',
  块: 'CNY',
  sgd: 'SGD',
  s$: 'SGD',
};

export type SecretKind = 'card_number' | 'password' | 'otp';

/** Which secrets a message contains (for the phishing warning). */
export function detectSecrets(text: string): SecretKind[] {
  const found = new Set<SecretKind>();
  for (const m of text.matchAll(CARD)) if (luhnValid(m[0].replace(/\D/g, ''))) found.add('card_number');
  if (new RegExp(PASSWORD_CONTEXT.source, 'giu').test(text)) found.add('password');
  if (new RegExp(OTP_CONTEXT.source, 'giu').test(text)) found.add('otp');
  return [...found];
}

/**
 * Replaces personal data and secrets with typed placeholders before a message is stored or sent to a
 * language model: card numbers, passwords, one-time codes, emails, phone numbers.
 */
export function redact(text: string): string {
  return text
    .replace(CARD, (m) => (luhnValid(m.replace(/\D/g, '')) ? '[card number]' : m))
    .replace(PASSWORD_CONTEXT, (m, k1: string | undefined, _v1, k2: string | undefined) =>
      k1 ? `${k1} [password]` : `${k2 ?? ''}[password]`,
    )
    .replace(OTP_CONTEXT, (m, _k, code: string) => m.replace(code, '[code]'))
    .replace(EMAIL, '[email]')
    .replace(PHONE, (m) => (m.replace(/\D/g, '').length >= 8 ? '[phone]' : m));
}

/** Extracts entities from the original text (and product names from the normalised text). */
export function extractEntities(text: string, products: readonly ProductName[] = []): Entity[] {
  const out: Entity[] = [];
  const seen = new Set<string>();
  const add = (e: Entity) => {
    const key = `${e.type}:${String(e.value)}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(e);
    }
  };
  const emails = text.match(EMAIL) ?? [];
  for (const e of emails) add({ type: 'email', value: e.toLowerCase() });
  const withoutEmails = text.replace(EMAIL, ' ');
  for (const m of withoutEmails.matchAll(ORDER_ID))
    add({ type: 'order_id', value: (m[1] ?? m[2]!).toUpperCase() });
  for (const m of withoutEmails.matchAll(PHONE)) {
    const digits = m[0].replace(/\D/g, '');
    if (
      digits.length >= 9 &&
      digits.length <= 15 &&
      !luhnValid(digits) &&
      !/^\d{4}-\d{2}-\d{2}$/.test(m[0].trim())
    )
      if (m[0].trim().startsWith('+') || digits.startsWith('0')) add({ type: 'phone', value: m[0].trim() });
  }
  for (const m of withoutEmails.matchAll(AMOUNT)) {
    const cur = (m[1] ?? m[4] ?? '').toLowerCase();
    let value = parseAmount(m[2] ?? m[3] ?? '');
    if (cur === 'ribu' || cur === 'rb' || cur === 'k') value *= 1000;
    if (Number.isFinite(value)) add({ type: 'amount', value, currency: CURRENCY[cur] ?? null });
  }
  for (const m of withoutEmails.matchAll(DATE)) {
    if (m[1]) add({ type: 'date', value: m[1] });
    else add({ type: 'date', value: `--${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}` });
  }
  if (products.length > 0) {
    const norm = normalize(text);
    for (const p of products)
      for (const t of p.titles) {
        const nt = normalize(t);
        if (nt.length >= 3 && norm.includes(nt)) {
          add({ type: 'product', value: p.id, title: t });
          break;
        }
      }
  }
  return out;
}
