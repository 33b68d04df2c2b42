/**
 * Traditional ⇄ Simplified Chinese, with OpenCC's tables (the `tw2s` and `s2tw` configurations of
 * opencc-js) and OpenCC's rules: each dictionary group is applied in turn, at each position the longest
 * phrase wins, the first dictionary of a group wins over the later ones, text is first split into the
 * segmentation dictionary's phrases, and an ideographic description sequence (U+2FF0–U+2FFF) is one unit.
 *
 * Why not opencc-js's own converter: it holds each table as a trie with one Map per node, 43 MiB of heap
 * for the three converters the chatbot and the review sentiment used (decision 0016). Every major
 * collection of a serving process visits all of them, while requests wait. Here a table is a hash table
 * over typed arrays and one string: a handful of objects the collector does not look into, a few MB, and
 * built on first use. `chinese-script.test.ts` checks that the results equal opencc-js's, character for
 * character; `npm run bench -- chinese-script` measures memory, build time and speed against it.
 */
import * as OpenCCPreset from 'opencc-js/preset';

/** One dictionary: `"key value|key value"` (opencc-js's serialised form). */
type Dict = string;
type Config = {
  normalizationChain?: readonly (readonly Dict[])[];
  segmentation?: Dict | readonly Dict[];
  conversionChain: readonly (readonly Dict[])[];
};
// Typed locally: the package's own declarations do not resolve under every linter configuration.
const presetConfigs = (OpenCCPreset as unknown as { configs: Record<string, Config> }).configs;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Slot marker of a key that only starts longer keys (the trie's inner node): keep reading, no value. */
const PREFIX_ONLY = -1;

/**
 * A dictionary group: keys and values in one string, entries as offsets into it, and an open-addressing
 * table of entry numbers. Every proper prefix of a key is an entry too (marked PREFIX_ONLY), so a lookup
 * stops where a trie walk would.
 */
class PhraseTable {
  private readonly text: string;
  private readonly keyStart: Int32Array;
  private readonly keyLength: Int32Array;
  /** Offset of the value in `text`, or PREFIX_ONLY. */
  private readonly valueStart: Int32Array;
  private readonly valueLength: Int32Array;
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(dicts: readonly Dict[]) {
    // The first dictionary of a group wins: read them last to first, a later read replacing an earlier.
    const entries = new Map<string, string>();
    for (let d = dicts.length - 1; d >= 0; d--) {
      const dict = dicts[d]!;
      if (dict === '') continue;
      for (const line of dict.split('|')) {
        const [key, value] = line.split(' ');
        if (key === undefined || key === '' || value === undefined) {
          throw new TypeError(`Invalid OpenCC dictionary entry: ${JSON.stringify(line)}`);
        }
        entries.set(key, value);
      }
    }
    const prefixes = new Map<string, number>(); // prefix → entry number of a key it starts
    const parts: string[] = [];
    let offset = 0;
    const keys: number[] = [];
    const values: number[] = [];
    for (const [key, value] of entries) {
      keys.push(offset, key.length);
      parts.push(key);
      offset += key.length;
      values.push(offset, value.length);
      parts.push(value);
      offset += value.length;
    }
    const keyed = entries.size;
    let n = 0;
    for (const key of entries.keys()) {
      for (let len = 1; len < key.length; len++) {
        const prefix = key.slice(0, len);
        if (!entries.has(prefix) && !prefixes.has(prefix)) prefixes.set(prefix, n);
      }
      n++;
    }
    const total = keyed + prefixes.size;
    this.text = parts.join('');
    this.keyStart = new Int32Array(total);
    this.keyLength = new Int32Array(total);
    this.valueStart = new Int32Array(total);
    this.valueLength = new Int32Array(total);
    for (let i = 0; i < keyed; i++) {
      this.keyStart[i] = keys[2 * i]!;
      this.keyLength[i] = keys[2 * i + 1]!;
      this.valueStart[i] = values[2 * i]!;
      this.valueLength[i] = values[2 * i + 1]!;
    }
    let i = keyed;
    for (const [prefix, of] of prefixes) {
      // A prefix's characters are the first ones of the key it came from: no text of its own.
      this.keyStart[i] = this.keyStart[of]!;
      this.keyLength[i] = prefix.length;
      this.valueStart[i] = PREFIX_ONLY;
      i++;
    }
    let size = 16;
    while (size < total * 2) size *= 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size).fill(-1);
    for (let e = 0; e < total; e++) {
      let h = FNV_OFFSET;
      const start = this.keyStart[e]!;
      const end = start + this.keyLength[e]!;
      for (let c = start; c < end; c++) h = Math.imul(h ^ this.text.charCodeAt(c), FNV_PRIME);
      let slot = h & this.mask;
      while (this.slots[slot] !== -1) slot = (slot + 1) & this.mask;
      this.slots[slot] = e;
    }
  }

  /** The entry whose key is s[from, to), given that key's hash; -1 when there is none. */
  private find(s: string, from: number, to: number, hash: number): number {
    const len = to - from;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const e = this.slots[slot]!;
      if (e === -1) return -1;
      if (this.keyLength[e] !== len) continue;
      const start = this.keyStart[e]!;
      let c = 0;
      while (c < len && this.text.charCodeAt(start + c) === s.charCodeAt(from + c)) c++;
      if (c === len) return e;
    }
  }

  /**
   * The longest key at s[i…] (whole code points, as OpenCC reads them): its entry and end, or null.
   * `end` and `entry` are written into `out` to spare an object per position.
   */
  matchAt(s: string, i: number, out: { end: number; entry: number }): boolean {
    let hash = FNV_OFFSET;
    out.entry = -1;
    for (let j = i; j < s.length;) {
      const step = (s.codePointAt(j) ?? 0) > 0xffff ? 2 : 1;
      for (let k = 0; k < step; k++) hash = Math.imul(hash ^ s.charCodeAt(j + k), FNV_PRIME);
      j += step;
      const e = this.find(s, i, j, hash);
      if (e === -1) break;
      if (this.valueStart[e] !== PREFIX_ONLY) {
        out.entry = e;
        out.end = j;
      }
    }
    return out.entry !== -1;
  }

  valueOf(entry: number): string {
    const start = this.valueStart[entry]!;
    return this.text.slice(start, start + this.valueLength[entry]!);
  }
}

function codePointLength(s: string, i: number): number {
  return (s.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
}

function descriptionArity(cp: number): number {
  if (cp >= 0x2ff0 && cp <= 0x2ff1) return 2;
  if (cp >= 0x2ff2 && cp <= 0x2ff3) return 3;
  if (cp >= 0x2ff4 && cp <= 0x2fff) return 2;
  return 0;
}

/** Where the ideographic description sequence starting at i ends, or 0 when none starts there. */
function descriptionEnd(s: string, i: number): number {
  const arity = descriptionArity(s.codePointAt(i) ?? 0);
  if (arity === 0) return 0;
  let end = i + codePointLength(s, i);
  for (let n = 0; n < arity; n++) {
    if (end >= s.length) return 0;
    const childEnd = descriptionEnd(s, end);
    end = childEnd || end + codePointLength(s, end);
  }
  return end;
}

/** How far to step over text that no key matches: a code point, or a whole description sequence. */
function unmatchedLength(s: string, i: number): number {
  const end = descriptionEnd(s, i);
  return end > i ? end - i : codePointLength(s, i);
}

const scratch = { end: 0, entry: -1 };

/**
 * The text cut at the table's keys, OpenCC's way (longest key at each position, unmatched text stepped over
 * a code point or a description sequence at a time): each key found becomes `matched(start, end, entry)`,
 * the runs between stay as they are.
 */
function cutAt(
  table: PhraseTable,
  s: string,
  matched: (start: number, end: number, entry: number) => string,
): string[] {
  const pieces: string[] = [];
  let unmatchedFrom = -1;
  for (let i = 0; i < s.length;) {
    if (table.matchAt(s, i, scratch)) {
      if (unmatchedFrom !== -1) {
        pieces.push(s.slice(unmatchedFrom, i));
        unmatchedFrom = -1;
      }
      pieces.push(matched(i, scratch.end, scratch.entry));
      i = scratch.end;
    } else {
      if (unmatchedFrom === -1) unmatchedFrom = i;
      i += unmatchedLength(s, i);
    }
  }
  if (unmatchedFrom !== -1) pieces.push(s.slice(unmatchedFrom));
  return pieces;
}

/** Each key replaced by its value. */
const convertWith = (table: PhraseTable, s: string): string =>
  cutAt(table, s, (_start, _end, entry) => table.valueOf(entry)).join('');

/** The segmentation dictionary's phrases as pieces of their own, and the runs between. */
const segmentWith = (table: PhraseTable, s: string): string[] =>
  cutAt(table, s, (start, end) => s.slice(start, end));

type Converter = (text: string) => string;

/** A converter for one OpenCC configuration (exported for tests with small dictionaries). */
export function converterOf(config: Config): Converter {
  const normalization = (config.normalizationChain ?? []).map((group) => new PhraseTable(group));
  const segmentation =
    config.segmentation === undefined
      ? null
      : new PhraseTable(
          typeof config.segmentation === 'string' ? [config.segmentation] : config.segmentation,
        );
  const chain = config.conversionChain.map((group) => new PhraseTable(group));
  return (text) => {
    let t = text;
    for (const table of normalization) t = convertWith(table, t);
    let pieces = segmentation ? segmentWith(segmentation, t) : [t];
    for (const table of chain) pieces = pieces.map((piece) => convertWith(table, piece));
    return pieces.join('');
  };
}

function presetConverter(name: 'tw2s' | 's2tw'): Converter {
  const config = presetConfigs[name];
  if (!config) throw new Error(`opencc-js has no ${name} configuration`);
  return converterOf(config);
}

let simplified: Converter | undefined;
let traditional: Converter | undefined;

/** Traditional Chinese (Taiwan standard, its variants and phrases) → Simplified; other text unchanged. */
export function toSimplifiedChinese(text: string): string {
  simplified ??= presetConverter('tw2s');
  return simplified(text);
}

/** Simplified Chinese → Traditional (Taiwan standard characters); other text unchanged. */
export function toTraditionalChinese(text: string): string {
  traditional ??= presetConverter('s2tw');
  return traditional(text);
}
