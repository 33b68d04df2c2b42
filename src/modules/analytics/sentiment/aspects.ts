/**
 * Aspects of a product that reviews praise or criticise: frequent noun-ish n-grams (content words and
 * word pairs that are not stop words or opinion words) counted once per review, compared between positive
 * and negative reviews. An aspect is "positive" when it appears in a larger share of the positive reviews
 * than of the negative ones (smoothed), and vice versa; equal scores go to the more frequent, then the
 * longer phrase.
 */
import { normalise, words } from './text.ts';

/** Function words and opinion words: they say how, not what. */
const STOP = new Set(
  (
    'a an the and or but if of to in on at for with from by as is are was were be been being it its this that these those ' +
    'i me my we our you your he she they them their his her not no very really too so just also only all any some more most ' +
    'have has had do does did will would can could should than then there here what which who when how one get got ' +
    'good great bad nice excellent poor terrible awesome perfect love like hate best worst ok okay well much many buy bought product item ' +
    'yang dan di ini itu tidak dengan untuk ke dari ada saya sangat juga bisa sudah karena tapi kami akan atau lebih seperti nya ' +
    'banget sekali aja saja sih deh kok lah pun bagus jelek enak mantap buruk kurang baik oke sudah belum lagi barang produk ' +
    '的 了 是 我 也 很 都 就 在 有 和 还 不 没 这 那 个 买 好 差 非常 太 吧 啊 呢 吗 一个 东西 真的 感觉 觉得 还是 但是 不错 满意 喜欢 失望'
  ).split(' '),
);

const isContent = (w: string) =>
  !STOP.has(w) && !/^\d+$/.test(w) && [...w].length >= (/\p{Script=Han}/u.test(w) ? 2 : 3);

/** The aspect candidates of one review: content words and adjacent content-word pairs, each once. */
export function aspectCandidates(text: string): string[] {
  const ws = words(normalise(text));
  const out = new Set<string>();
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i]!;
    if (!isContent(w)) continue;
    out.add(w);
    const next = ws[i + 1];
    if (next !== undefined && isContent(next))
      out.add(/\p{Script=Han}/u.test(w) ? `${w}${next}` : `${w} ${next}`);
  }
  return [...out];
}

export type Aspect = { aspect: string; positiveReviews: number; negativeReviews: number };

export type AspectSummary = { positive: Aspect[]; negative: Aspect[] };

/**
 * Top aspects from reviews already labelled; an aspect needs at least `minReviews` mentions. Ranked by
 * the smoothed log-ratio of its share in positive vs negative reviews, ties by mentions then text.
 */
export function topAspects(
  reviews: readonly { text: string; label: 'positive' | 'negative' | 'neutral' }[],
  limit = 5,
  minReviews = 2,
): AspectSummary {
  const counts = new Map<string, { pos: number; neg: number }>();
  let nPos = 0;
  let nNeg = 0;
  for (const r of reviews) {
    if (r.label === 'neutral') continue;
    if (r.label === 'positive') nPos++;
    else nNeg++;
    for (const a of aspectCandidates(r.text)) {
      const c = counts.get(a) ?? { pos: 0, neg: 0 };
      if (r.label === 'positive') c.pos++;
      else c.neg++;
      counts.set(a, c);
    }
  }
  const scored = [...counts.entries()]
    .filter(([, c]) => c.pos + c.neg >= minReviews)
    .map(([aspect, c]) => ({
      aspect,
      positiveReviews: c.pos,
      negativeReviews: c.neg,
      score: Math.log((c.pos + 0.5) / (nPos + 1)) - Math.log((c.neg + 0.5) / (nNeg + 1)),
    }));
  const strip = ({ aspect, positiveReviews, negativeReviews }: Aspect) => ({
    aspect,
    positiveReviews,
    negativeReviews,
  });
  const tie = (a: Aspect, b: Aspect) =>
    b.positiveReviews + b.negativeReviews - (a.positiveReviews + a.negativeReviews) ||
    // the more specific phrase ("battery life" over "battery") when they are equally frequent
    b.aspect.length - a.aspect.length ||
    (a.aspect < b.aspect ? -1 : a.aspect > b.aspect ? 1 : 0);
  return {
    positive: scored
      .filter((s) => s.score > 0 && s.positiveReviews >= minReviews)
      .sort((a, b) => b.score - a.score || tie(a, b))
      .slice(0, limit)
      .map(strip),
    negative: scored
      .filter((s) => s.score < 0 && s.negativeReviews >= minReviews)
      .sort((a, b) => a.score - b.score || tie(a, b))
      .slice(0, limit)
      .map(strip),
  };
}
