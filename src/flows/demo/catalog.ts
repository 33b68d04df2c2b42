/**
 * The demo shop's catalogue: a category tree and a few thousand products with titles and descriptions in
 * English, Indonesian and Chinese, composed from the vocabulary so that they read like real listings, and
 * a popularity order with a long tail (a few products get most of the traffic).
 */
import { createRng, createZipf, mixSeed, type Rng, type Zipf } from './rng.ts';
import {
  COLOURS,
  DENOMINATIONS,
  DESCRIPTION_TEMPLATES,
  SIZES,
  TOP_CATEGORIES,
  toTraditional,
  type AttributeKind,
  type Text3,
} from './vocabulary.ts';

export type Language = 'en' | 'id' | 'zh';
export const LANGUAGES: readonly Language[] = ['en', 'id', 'zh'];

export type DemoCategory = {
  /** Catalog-safe id: the top category's slug, or `top-sub` (e.g. `electronics-phones`). */
  id: string;
  /** The path products refer to, e.g. `electronics/phones`. */
  path: string;
  parentId: string | null;
  name: Text3;
};

export type DemoProduct = {
  id: string;
  title: Text3;
  description: Text3;
  categoryPath: string;
  brand: string;
  /** Integer minor units; the rupiah has no minor unit in use, so this is whole rupiah. */
  price: number;
  currency: 'IDR';
  stock: number;
  attributes: Record<string, string>;
};

/** What the shopper simulation knows about a product beyond its listing. */
export type ProductFacts = {
  top: number;
  sub: number;
  noun: number;
  adjective: number | null;
  /** 0 is the most popular product. */
  rank: number;
};

export type DemoCatalog = {
  categories: DemoCategory[];
  products: DemoProduct[];
  facts: ProductFacts[];
};

export type CatalogOptions = { seed: number; products?: number };

export const DEFAULT_PRODUCTS = 3000;

const MODEL_SUFFIXES = ['X5', 'Pro', 'Lite', 'Max', 'S2', 'Air', 'Mini', 'Neo', '2', '3 Plus'] as const;
const STORAGE = ['64 GB', '128 GB', '256 GB', '512 GB'] as const;
const VOLUMES = ['30 ml', '50 ml', '100 ml', '150 ml', '250 ml'] as const;
const WEIGHTS = ['100 g', '250 g', '500 g', '1 kg', '2 kg', '5 kg'] as const;
const AGES = ['3+', '5+', '8+', '12+'] as const;

export function generateCatalog(options: CatalogOptions): DemoCatalog {
  const count = options.products ?? DEFAULT_PRODUCTS;
  if (!Number.isInteger(count) || count < 1) throw new RangeError('products must be a positive integer');
  const rng = createRng(mixSeed(options.seed, 0xca7a));

  const categories: DemoCategory[] = [];
  for (const top of TOP_CATEGORIES) {
    categories.push({ id: top.slug, path: top.slug, parentId: null, name: top.name });
    for (const sub of top.subcategories) {
      const path = `${top.slug}/${sub.slug}`;
      categories.push({ id: `${top.slug}-${sub.slug}`, path, parentId: top.slug, name: sub.name });
    }
  }

  const topWeights = TOP_CATEGORIES.map((c, i) => [i, c.weight] as const);
  // Popularity: a random permutation of ranks, so popular products are spread over categories.
  const ranks = shuffledRange(count, rng);
  const products: DemoProduct[] = [];
  const facts: ProductFacts[] = [];
  for (let i = 0; i < count; i++) {
    const topIndex = rng.weighted(topWeights);
    const top = TOP_CATEGORIES[topIndex]!;
    const subIndex = rng.weighted(top.subcategories.map((s, j) => [j, s.weight] as const));
    const sub = top.subcategories[subIndex]!;
    const nounIndex = rng.int(0, sub.nouns.length - 1);
    const noun = sub.nouns[nounIndex]!;
    const adjectiveIndex = rng.chance(0.6) ? rng.int(0, top.adjectives.length - 1) : null;
    const adjective = adjectiveIndex === null ? null : top.adjectives[adjectiveIndex]!;
    const brand = rng.pick(top.brands);

    const attributes: Record<string, string> = {};
    let variant: Text3 | null = null;
    let colour: Text3 | null = null;
    let material: Text3 | null = null;
    let price = samplePrice(rng, sub.price);
    for (const kind of sub.attributes) {
      const v = attributeValue(kind, rng, top.materials);
      if (!v) continue;
      attributes[kind === 'shoeSize' ? 'size' : kind] = v.value;
      if (kind === 'colour') colour = v.text;
      else if (kind === 'material') material = v.text;
      else if (kind === 'denomination') {
        const d = DENOMINATIONS.filter((x) => x >= sub.price[0] && x <= sub.price[1]);
        const value = d.length > 0 ? rng.pick(d) : sub.price[0];
        attributes.denomination = String(value);
        price = value;
        variant = textAll(formatRupiah(value));
      } else if (kind === 'edition') {
        const n = rng.int(1, 5);
        if (n > 1) variant = { en: `Vol. ${n}`, id: `Jilid ${n}`, zh: `第${n}卷` };
        attributes.edition = rng.pick(['paperback', 'paperback', 'hardcover', 'ebook']);
      } else if (variant === null && (kind === 'storage' || kind === 'volume' || kind === 'weight')) {
        variant = v.text;
      }
    }
    if (top.slug === 'electronics' && variant === null && rng.chance(0.7))
      variant = textAll(rng.pick(MODEL_SUFFIXES));

    const hant = rng.chance(0.08);
    const title = composeTitle(brand, noun, adjective, variant, colour && rng.chance(0.5) ? colour : null);
    const description = composeDescription(title, material, colour);
    if (hant) {
      title.zh = toTraditional(title.zh);
      description.zh = toTraditional(description.zh);
    }
    const stock = rng.chance(0.04) ? 0 : Math.min(999, 1 + rng.geometric(0.02));
    products.push({
      id: `p${String(i + 1).padStart(6, '0')}`,
      title,
      description,
      categoryPath: `${top.slug}/${sub.slug}`,
      brand,
      price,
      currency: 'IDR',
      stock,
      attributes,
    });
    facts.push({ top: topIndex, sub: subIndex, noun: nounIndex, adjective: adjectiveIndex, rank: ranks[i]! });
  }
  return { categories, products, facts };
}

function textAll(s: string): Text3 {
  return { en: s, id: s, zh: s };
}

function shuffledRange(n: number, rng: Rng): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const tmp = a[i]!;
    a[i] = a[j]!;
    a[j] = tmp;
  }
  return a;
}

/** Log-normal within the range, rounded the way Indonesian shops price (…900, or …500 for small amounts). */
function samplePrice(rng: Rng, [min, max]: readonly [number, number]): number {
  const x = Math.min(1, Math.max(0, 0.45 + 0.22 * rng.normal()));
  const raw = Math.exp(Math.log(min) + (Math.log(max) - Math.log(min)) * x);
  if (raw < 20_000) return Math.max(500, Math.round(raw / 500) * 500);
  return Math.round(raw / 1000) * 1000 - 100;
}

export function formatRupiah(value: number): string {
  // Indonesian grouping (Rp1.250.000), without Intl: its locale data differs between Node builds.
  return `Rp${String(Math.trunc(value)).replace(/\B(?=(\d{3})+(?!\d))/g, '.')}`;
}

function attributeValue(
  kind: AttributeKind,
  rng: Rng,
  materials: readonly Text3[],
): { value: string; text: Text3 } | null {
  switch (kind) {
    case 'colour': {
      const c = rng.pick(COLOURS);
      return { value: c.en.toLowerCase(), text: c };
    }
    case 'size': {
      const s = rng.pick(SIZES);
      return { value: s, text: textAll(s) };
    }
    case 'shoeSize': {
      const s = String(rng.int(36, 44));
      return { value: s, text: textAll(s) };
    }
    case 'material': {
      if (materials.length === 0) return null;
      const m = rng.pick(materials);
      return { value: m.en.toLowerCase(), text: m };
    }
    case 'storage': {
      const s = rng.pick(STORAGE);
      return { value: s, text: textAll(s) };
    }
    case 'volume': {
      const s = rng.pick(VOLUMES);
      return { value: s, text: textAll(s) };
    }
    case 'weight': {
      const s = rng.pick(WEIGHTS);
      return { value: s, text: textAll(s) };
    }
    case 'age': {
      const s = rng.pick(AGES);
      return { value: s, text: { en: `Ages ${s}`, id: `Usia ${s}`, zh: `${s}岁` } };
    }
    case 'denomination':
    case 'edition':
      return { value: '', text: textAll('') };
  }
}

function composeTitle(
  brand: string,
  noun: Text3,
  adjective: Text3 | null,
  variant: Text3 | null,
  colour: Text3 | null,
): Text3 {
  // Word order follows each language: English puts adjectives first, Indonesian after the noun, Chinese
  // joins adjective and noun without a space.
  const en =
    [brand, adjective?.en, noun.en, variant?.en].filter(Boolean).join(' ') + (colour ? `, ${colour.en}` : '');
  const id =
    [brand, noun.id, adjective?.id, variant?.id].filter(Boolean).join(' ') +
    (colour ? ` - ${colour.id}` : '');
  const zh =
    `${brand} ${adjective?.zh ?? ''}${noun.zh}` +
    (variant ? ` ${variant.zh}` : '') +
    (colour ? ` ${colour.zh}` : '');
  return { en, id, zh };
}

function composeDescription(title: Text3, material: Text3 | null, colour: Text3 | null): Text3 {
  const part = (lang: Language, sep: string): string => {
    const tpl = DESCRIPTION_TEMPLATES[lang];
    const bits = [title[lang] + (lang === 'zh' ? '。' : '.')];
    if (material) bits.push(tpl.material.replace('{material}', material[lang]));
    if (colour) bits.push(tpl.colour.replace('{colour}', colour[lang]));
    bits.push(tpl.shipping);
    return bits.join(sep);
  };
  return { en: part('en', ' '), id: part('id', ' '), zh: part('zh', '') };
}

/** Lookup structures the shopper simulation samples from. Built once per catalogue. */
export type CatalogIndex = {
  catalog: DemoCatalog;
  /** Product indexes by popularity (rank order). */
  byRank: Uint32Array;
  popularity: Zipf;
  /** Per `top/sub` category path: product indexes in rank order, and a long-tail sampler over them. */
  bySubcategory: Map<string, { products: number[]; zipf: Zipf }>;
  /** Per `top:sub:noun`: product indexes in rank order (what a search for that noun returns). */
  byNoun: Map<string, number[]>;
};

export function indexCatalog(catalog: DemoCatalog): CatalogIndex {
  const n = catalog.products.length;
  const byRank = new Uint32Array(n);
  catalog.facts.forEach((f, i) => {
    byRank[f.rank] = i;
  });
  const bySub = new Map<string, number[]>();
  const byNoun = new Map<string, number[]>();
  for (const i of byRank) {
    const f = catalog.facts[i]!;
    const p = catalog.products[i]!;
    const subList = bySub.get(p.categoryPath) ?? [];
    subList.push(i);
    bySub.set(p.categoryPath, subList);
    const key = nounKey(f);
    const nounList = byNoun.get(key) ?? [];
    nounList.push(i);
    byNoun.set(key, nounList);
  }
  const bySubcategory = new Map<string, { products: number[]; zipf: Zipf }>();
  for (const [path, products] of bySub)
    bySubcategory.set(path, { products, zipf: createZipf(products.length, 0.9) });
  return { catalog, byRank, popularity: createZipf(n), bySubcategory, byNoun };
}

export function nounKey(f: Pick<ProductFacts, 'top' | 'sub' | 'noun'>): string {
  return `${f.top}:${f.sub}:${f.noun}`;
}
