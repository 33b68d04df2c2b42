/**
 * Text preparation for review sentiment: normalisation (NFKC, lower case, Traditional → Simplified with
 * OpenCC's tables, kernel/chinese-script.ts, so one model reads both scripts), language identification (en, id, zh)
 * and the hashed features the classifier reads: word 1–2-grams everywhere, plus character 1–2-grams on
 * Chinese runs (Intl.Segmenter splits Chinese words, but short reviews are carried by characters as much).
 */
import { toSimplifiedChinese } from '../../../kernel/chinese-script.ts';

export const SENTIMENT_LANGUAGES = ['en', 'id', 'zh'] as const;
export type SentimentLang = (typeof SENTIMENT_LANGUAGES)[number];

const zhSegmenter = new Intl.Segmenter('zh', { granularity: 'word' });

const HAN = /\p{Script=Han}/u;
const HAN_RUN = /(\p{Script=Han}+)/u;
const WORD_SPLIT = /[^\p{L}\p{N}']+/u;

/** Frequent function words that tell Indonesian from English (both are Latin script). */
const ID_WORDS = new Set(
  'yang dan di ini itu tidak dengan untuk ke dari ada saya sangat juga bisa sudah karena tapi enak banget kami akan atau lebih seperti nya tempat makanan harga barang sekali kurang bagus jelek'.split(
    ' ',
  ),
);
const EN_WORDS = new Set(
  'the and is it this to of was for not with but my very you have are that be on they as one great good bad product'.split(
    ' ',
  ),
);

/** NFKC + lower case + Traditional → Simplified (only when the text holds Han characters: cheap otherwise). */
export function normalise(text: string): string {
  const t = text.normalize('NFKC').toLowerCase();
  return HAN.test(t) ? toSimplifiedChinese(t) : t;
}

/** The review's language: zh when Han characters dominate letters, else id or en by function words. */
export function detectLanguage(text: string): SentimentLang {
  let han = 0;
  let latin = 0;
  for (const ch of text) {
    if (HAN.test(ch)) han++;
    else if (/\p{L}/u.test(ch)) latin++;
  }
  if (han > 0 && han * 3 >= latin) return 'zh';
  let id = 0;
  let en = 0;
  for (const w of text.toLowerCase().split(WORD_SPLIT)) {
    if (ID_WORDS.has(w)) id++;
    if (EN_WORDS.has(w)) en++;
  }
  return id > en ? 'id' : 'en';
}

/** Word tokens of normalised text: Chinese runs through Intl.Segmenter, the rest split on non-letters. */
export function words(normalised: string): string[] {
  const out: string[] = [];
  for (const part of normalised.split(HAN_RUN)) {
    if (part.length === 0) continue;
    if (HAN.test(part)) {
      for (const s of zhSegmenter.segment(part)) if (s.isWordLike) out.push(s.segment);
    } else {
      for (const w of part.split(WORD_SPLIT)) if (w.length > 0 && w !== "'") out.push(w);
    }
  }
  return out;
}

/** The feature strings of a text: word uni/bigrams and Chinese character uni/bigrams, each once. */
export function featureStrings(text: string): string[] {
  const n = normalise(text);
  const ws = words(n);
  const out = new Set<string>();
  for (let i = 0; i < ws.length; i++) {
    out.add(`w:${ws[i]}`);
    if (i + 1 < ws.length) out.add(`b:${ws[i]} ${ws[i + 1]}`);
  }
  for (const m of n.matchAll(/\p{Script=Han}+/gu)) {
    const run = [...m[0]];
    for (let i = 0; i < run.length; i++) {
      out.add(`c:${run[i]}`);
      if (i + 1 < run.length) out.add(`c:${run[i]}${run[i + 1]}`);
    }
  }
  return [...out];
}

/** FNV-1a 32-bit: stable across runs and processes, so a saved model reads the same buckets. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Feature bucket indices (deduplicated) in a table of 2^bits buckets. */
export function featureIndices(text: string, bits: number): Uint32Array {
  const mask = (1 << bits) - 1;
  const set = new Set<number>();
  for (const f of featureStrings(text)) set.add(hash32(f) & mask);
  return Uint32Array.from(set);
}
