/**
 * Content similarity over multilingual titles, categories, brand and attributes: TF-IDF vectors, cosine
 * neighbours. Words come from `Intl.Segmenter` per language, so Chinese (no spaces) splits into words and
 * Indonesian/English into lower-cased words; categories and brand become their own tokens. It needs no
 * interactions, so it serves new items and new shops.
 */
import { neighboursFromRows, scoreFromNeighbours } from './sparse.ts';
import type { Neighbours, Recommender } from './types.ts';

export type ItemContent = {
  title?: Partial<Record<'en' | 'id' | 'zh', string | null>>;
  categories?: readonly string[];
  brand?: string | null;
  attributes?: Record<string, unknown>;
};

const segmenters = new Map<string, Intl.Segmenter>();
function segmenter(locale: string): Intl.Segmenter {
  let s = segmenters.get(locale);
  if (!s) segmenters.set(locale, (s = new Intl.Segmenter(locale, { granularity: 'word' })));
  return s;
}

const HAN = /\p{Script=Han}/u;

/** Word tokens of a text; Han-script text is segmented with the Chinese rules whatever its label. */
export function tokenize(text: string, locale = 'en'): string[] {
  const loc = HAN.test(text) ? 'zh' : locale;
  const out: string[] = [];
  for (const part of segmenter(loc).segment(text.normalize('NFKC').toLowerCase()))
    if (part.isWordLike && (part.segment.length > 1 || HAN.test(part.segment))) out.push(part.segment);
  return out;
}

export function itemTokens(item: ItemContent): string[] {
  const tokens: string[] = [];
  for (const [lang, text] of Object.entries(item.title ?? {})) if (text) tokens.push(...tokenize(text, lang));
  // Category and brand weigh like two title words: strong evidence of "the same kind of thing".
  for (const c of item.categories ?? []) tokens.push(`cat:${c}`, `cat:${c}`);
  if (item.brand) tokens.push(`brand:${item.brand.toLowerCase()}`, `brand:${item.brand.toLowerCase()}`);
  for (const [key, value] of Object.entries(item.attributes ?? {})) {
    if (typeof value === 'string' && value.length <= 40) tokens.push(`attr:${key}=${value.toLowerCase()}`);
    else if (Array.isArray(value))
      for (const v of value) if (typeof v === 'string') tokens.push(`attr:${key}=${v.toLowerCase()}`);
  }
  return tokens;
}

export type ContentModel = Recommender & { readonly neighbours: Neighbours };

export function trainContent(items: readonly ItemContent[], options: { k?: number } = {}): ContentModel {
  const n = items.length;
  const vocab = new Map<string, number>();
  const docs = items.map((item) => {
    const tf = new Map<number, number>();
    for (const t of itemTokens(item)) {
      let id = vocab.get(t);
      if (id === undefined) vocab.set(t, (id = vocab.size));
      tf.set(id, (tf.get(id) ?? 0) + 1);
    }
    return tf;
  });
  const df = new Float64Array(vocab.size);
  for (const d of docs) for (const t of d.keys()) df[t]!++;
  const vectors = docs.map((d) => {
    const terms = Int32Array.from(d.keys());
    const w = Float64Array.from(
      terms,
      (t) => (1 + Math.log(d.get(t)!)) * (Math.log((1 + n) / (1 + df[t]!)) + 1),
    );
    const norm = Math.hypot(...w) || 1;
    return { terms, w: w.map((x) => x / norm) };
  });
  const postings: { doc: number; w: number }[][] = Array.from({ length: vocab.size }, () => []);
  vectors.forEach((v, doc) => v.terms.forEach((t, x) => postings[t]!.push({ doc, w: v.w[x]! })));
  const neighbours = neighboursFromRows(n, options.k ?? 50, (i, acc) => {
    const v = vectors[i]!;
    v.terms.forEach((t, x) => {
      const list = postings[t]!;
      // Terms on a huge share of items say little and cost much to expand.
      if (list.length > 5000) return;
      for (const p of list) acc[p.doc]! += v.w[x]! * p.w;
    });
  });
  return {
    name: 'content',
    nItems: n,
    neighbours,
    score: (history) => scoreFromNeighbours(neighbours, history),
  };
}
