// `npm run bench -- chinese-script [--runs 5] [--chars 200000]`
// Traditional ⇄ Simplified Chinese conversion (src/kernel/chinese-script.ts) against opencc-js's own
// converters, the baseline, in the same run: each run starts one fresh process per implementation (the
// order alternating between runs), which builds both directions (tw2s and s2tw, as the chatbot and the
// review sentiment use them) and reports
//   - the memory they hold: the JavaScript heap (used heap after a full collection, minus the same before
//     building) and the typed arrays' contents, which live outside it,
//   - how long building them took,
//   - how long a full (non-incremental) collection of the whole heap takes with them held: what every
//     major collection of a serving process pays for them,
//   - conversion time per 1,000 characters of synthetic text made of dictionary phrases, Latin text and
//     punctuation (both directions).
// Medians of --runs runs. Records bench/results/chinese-script.json.
import { spawnSync } from 'node:child_process';
import { median, numberArg, printTable, recordResult } from './support.ts';

const RUNS = numberArg('runs', 5);
const CHARS = numberArg('chars', 200_000);
const IMPLEMENTATIONS = ['opencc-js', 'candor'] as const;
type Implementation = (typeof IMPLEMENTATIONS)[number];
type Sample = {
  heapMiB: number;
  arrayBuffersMiB: number;
  buildMs: number;
  fullGcMs: number;
  convertUsPer1kChars: number;
};

/** The child: builds one implementation's converters and measures them. */
async function child(which: Implementation): Promise<Sample> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const preset = (await import('opencc-js/preset')) as unknown as {
    configs: Record<string, { conversionChain: string[][] }>;
  };
  // Text: phrases of the s2tw and tw2s tables back to back with Latin text and punctuation between.
  const keys = [
    ...preset.configs.s2tw!.conversionChain.flat(),
    ...preset.configs.tw2s!.conversionChain.flat(),
  ].flatMap((d) => d.split('|').map((l) => l.split(' ')[0]!));
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const pieces: string[] = [];
  for (let n = 0; n < CHARS;) {
    const piece =
      next() < 0.8
        ? keys[Math.floor(next() * keys.length)]!
        : ['，', ' ok ', '。', '123'][Math.floor(next() * 4)]!;
    pieces.push(piece);
    n += piece.length;
  }
  // Messages of about 100 characters, as chat messages and reviews are.
  const text = pieces.join('');
  const messages: string[] = [];
  for (let i = 0; i < text.length; i += 100) messages.push(text.slice(i, i + 100));

  gc();
  const before = process.memoryUsage();
  const t0 = performance.now();
  let toS: (s: string) => string;
  let toT: (s: string) => string;
  if (which === 'opencc-js') {
    const opencc = (await import('opencc-js')) as unknown as {
      Converter(o: { from: string; to: string }): (s: string) => string;
    };
    toS = opencc.Converter({ from: 'tw', to: 'cn' });
    toT = opencc.Converter({ from: 'cn', to: 'tw' });
    // Tables are built when the converter is made.
  } else {
    const ours = await import('../src/kernel/chinese-script.ts');
    toS = ours.toSimplifiedChinese;
    toT = ours.toTraditionalChinese;
    // Tables are built on first use.
    toS('');
    toT('');
  }
  const buildMs = performance.now() - t0;
  gc();
  const after = process.memoryUsage();
  const heapMiB = (after.heapUsed - before.heapUsed) / 2 ** 20;
  // Typed arrays keep their contents outside the heap: counted here, so memory is compared whole.
  const arrayBuffersMiB = (after.arrayBuffers - before.arrayBuffers) / 2 ** 20;
  const gcs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const g = performance.now();
    gc();
    gcs.push(performance.now() - g);
  }
  // Warm up, then time both directions over every message.
  for (const m of messages.slice(0, 200)) toT(toS(m));
  const c = performance.now();
  let sink = 0;
  for (const m of messages) sink += toS(m).length + toT(m).length;
  const convertMs = performance.now() - c;
  if (sink === 0) throw new Error('nothing converted');
  return {
    heapMiB,
    arrayBuffersMiB,
    buildMs,
    fullGcMs: median(gcs),
    convertUsPer1kChars: (convertMs * 1000) / ((2 * text.length) / 1000),
  };
}

const childArg = process.argv.indexOf('--child');
if (childArg >= 0) {
  const sample = await child(process.argv[childArg + 1] as Implementation);
  process.stdout.write(JSON.stringify(sample));
} else {
  const samples: Record<Implementation, Sample[]> = { 'opencc-js': [], candor: [] };
  for (let r = 0; r < RUNS; r++) {
    const order = r % 2 === 0 ? IMPLEMENTATIONS : [...IMPLEMENTATIONS].reverse();
    for (const which of order) {
      const out = spawnSync(
        process.execPath,
        ['--expose-gc', import.meta.filename, '--child', which, '--chars', String(CHARS)],
        { encoding: 'utf8' },
      );
      if (out.status !== 0) throw new Error(`${which} failed: ${out.stderr}`);
      samples[which].push(JSON.parse(out.stdout) as Sample);
    }
  }
  const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
  const results = IMPLEMENTATIONS.map((which) => {
    const s = samples[which];
    const col = (k: keyof Sample) => s.map((x) => round(x[k])).join(' / ');
    return {
      implementation: which,
      'heap MiB (median)': round(median(s.map((x) => x.heapMiB))),
      'array buffers MiB (median)': round(median(s.map((x) => x.arrayBuffersMiB))),
      'build ms (median)': round(median(s.map((x) => x.buildMs))),
      'full GC ms (median)': round(median(s.map((x) => x.fullGcMs))),
      'convert µs per 1k chars (median)': round(median(s.map((x) => x.convertUsPer1kChars))),
      'heap MiB (runs)': col('heapMiB'),
      'full GC ms (runs)': col('fullGcMs'),
      'convert µs per 1k chars (runs)': col('convertUsPer1kChars'),
    };
  });
  printTable(results);
  const file = recordResult('chinese-script', { settings: { runs: RUNS, chars: CHARS }, results });
  console.log(`\nrecorded ${file}`);
}
