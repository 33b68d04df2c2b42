/**
 * Text preparation shared by every NLU step: language identification (en, id, zh-Hans, zh-Hant, other),
 * Traditional → Simplified normalisation (OpenCC's tables, kernel/chinese-script.ts, so both scripts match one model) and
 * tokenisation (Intl.Segmenter for Chinese, which has no spaces between words).
 */
import {
  toSimplifiedChinese as toSimplified,
  toTraditionalChinese as toTraditional,
} from '../../../kernel/chinese-script.ts';

export const LANGUAGES = ['en', 'id', 'zh-Hans', 'zh-Hant', 'other'] as const;
export type Lang = (typeof LANGUAGES)[number];

const zhSegmenter = new Intl.Segmenter('zh', { granularity: 'word' });

const HAN = /\p{Script=Han}/u;
const HAN_G = /\p{Script=Han}/gu;
const LATIN_G = /\p{Script=Latin}/gu;

/** Frequent function words and shop words; enough to tell English from Indonesian in one short message. */
const EN_WORDS = new Set(
  'the a an is are was were my your i you me we our it this that what where when how why which who can could would should will do does did not no yes to of in on for with from and or but have has had be been am please order orders refund return cancel delivery shipping payment card account help want need get got thanks thank hi hello hey'.split(
    ' ',
  ),
);
const ID_WORDS = new Set(
  'yang dan di ke dari untuk dengan saya aku kamu anda ini itu apa apakah bagaimana gimana kapan dimana mana berapa kenapa mengapa tidak nggak gak enggak belum sudah udah bisa mau ingin tolong mohon pesanan barang kirim dikirim pengiriman sampai bayar pembayaran kartu uang kembali pengembalian batal batalkan produk harga stok ada adalah akan juga lagi sih dong ya kak min terima kasih halo selamat pagi siang sore malam akun hapus data saja lebih atau jika kalau karena sama buat punya'.split(
    ' ',
  ),
);

export type PreparedText = {
  /** The text as received, trimmed. */
  original: string;
  lang: Lang;
  /** Lower-cased, NFKC, Traditional converted to Simplified: what matching and features work on. */
  normalized: string;
  /** Word tokens of `normalized` (Chinese segmented, Latin split on non-letters). */
  tokens: string[];
};

/** Counts characters that a conversion changes: a text in one script changes under the other's converter. */
function changedChars(a: string, b: string): number {
  const ca = [...a];
  const cb = [...b];
  if (ca.length !== cb.length) return Math.abs(ca.length - cb.length) + 1;
  let n = 0;
  for (let i = 0; i < ca.length; i++) if (ca[i] !== cb[i]) n++;
  return n;
}

/** Identifies the language of one message. Chinese script is decided by which OpenCC direction changes it. */
export function detectLanguage(text: string): Lang {
  const han = text.match(HAN_G)?.length ?? 0;
  const latin = text.match(LATIN_G)?.length ?? 0;
  if (han > 0 && han * 2 >= latin) {
    const hanOnly = (text.match(HAN_G) ?? []).join('');
    const asSimplified = changedChars(hanOnly, toSimplified(hanOnly));
    const asTraditional = changedChars(hanOnly, toTraditional(hanOnly));
    // Text written in Traditional changes when simplified; text in Simplified changes when made Traditional.
    return asSimplified > asTraditional ? 'zh-Hant' : 'zh-Hans';
  }
  if (latin === 0) return 'other';
  const words = text.toLowerCase().match(/\p{L}+/gu) ?? [];
  let en = 0;
  let id = 0;
  for (const w of words) {
    if (EN_WORDS.has(w)) en++;
    if (ID_WORDS.has(w)) id++;
  }
  if (id > en) return 'id';
  if (en > 0) return 'en';
  // Short messages with no telling words ("ok", an order number) are most often English in this shop's traffic.
  return words.length <= 2 ? 'en' : 'other';
}

/** NFKC, lower case, Traditional → Simplified; numbers keep their digits (entities need them). */
export function normalize(text: string): string {
  let t = text.normalize('NFKC').toLowerCase();
  if (HAN.test(t)) t = toSimplified(t);
  return t.replace(/\s+/g, ' ').trim();
}

/** Word tokens: Chinese runs go through Intl.Segmenter, everything else splits on non-letters/digits. */
export function tokenize(normalized: string): string[] {
  const out: string[] = [];
  for (const part of normalized.split(/[^\p{L}\p{N}']+/u)) {
    if (!part) continue;
    if (HAN.test(part)) {
      for (const s of zhSegmenter.segment(part)) if (s.isWordLike) out.push(s.segment);
    } else {
      const w = part.replace(/^'+|'+$/g, '');
      if (w) out.push(w);
    }
  }
  return out;
}

export function prepare(text: string, lang?: Lang): PreparedText {
  const original = text.trim();
  const normalized = normalize(original);
  return { original, lang: lang ?? detectLanguage(original), normalized, tokens: tokenize(normalized) };
}

export function isHan(s: string): boolean {
  return HAN.test(s);
}

/** Simplified → Traditional (Taiwan) for replies to shoppers who write Traditional Chinese. */
export function traditional(text: string): string {
  return toTraditional(text);
}
