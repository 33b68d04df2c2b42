/**
 * The built-in training set of the shipped default model: a small hand-written lexicon of shop-review
 * words in English, Indonesian and Chinese, expanded through sentence templates (with negation) into
 * labelled examples, plus neutral factual remarks. It lives in the project, so the default model works on a
 * fresh clone; the larger labelled sets in ../shared are for `candor evaluate sentiment` only and are never
 * read at run time. Written for Candor; no text is copied from any data set.
 */
import type { LabelledText, SentimentLabel } from './model.ts';

type Lexicon = {
  subjects: readonly string[];
  positive: readonly string[];
  negative: readonly string[];
  /** Turns an adjective into its negation. */
  negate: (adj: string) => string;
  /** Sentence frames around a subject and an adjective. */
  frames: readonly ((subject: string, adj: string) => string)[];
  /** Whole remarks with no opinion. */
  neutral: readonly string[];
  /** Whole remarks with a clear opinion the adjective frames miss. */
  positivePhrases: readonly string[];
  negativePhrases: readonly string[];
};

const EN: Lexicon = {
  subjects: [
    'the product',
    'the quality',
    'delivery',
    'the size',
    'the material',
    'the seller',
    'the packaging',
    'this item',
    'the price',
    'the battery',
    'the fabric',
    'the taste',
    'customer service',
    'shipping',
  ],
  positive: [
    'good',
    'great',
    'excellent',
    'amazing',
    'perfect',
    'wonderful',
    'fantastic',
    'awesome',
    'nice',
    'lovely',
    'comfortable',
    'fast',
    'sturdy',
    'beautiful',
    'worth it',
    'reliable',
    'helpful',
    'fresh',
    'soft',
    'recommended',
    'satisfied',
    'happy',
    'impressive',
    'superb',
    'durable',
    'accurate',
    'cheap and good',
    'love it',
    'well made',
  ],
  negative: [
    'bad',
    'terrible',
    'awful',
    'poor',
    'horrible',
    'broken',
    'useless',
    'disappointing',
    'cheap looking',
    'slow',
    'flimsy',
    'damaged',
    'defective',
    'wrong',
    'fake',
    'overpriced',
    'rude',
    'late',
    'dirty',
    'uncomfortable',
    'faulty',
    'worst',
    'waste of money',
    'not worth it',
    'returned it',
    'stopped working',
    'too small',
    'smells bad',
    'unhappy',
    'broke',
    'cracked',
    'leaks',
    'ripped',
    'scratched',
  ],
  negate: (a) => `not ${a}`,
  frames: [
    (s, a) => `${s} is ${a}`,
    (s, a) => `${a}`,
    (s, a) => `${s} was really ${a}`,
    (s, a) => `very ${a}, ${s}`,
    (s, a) => `i think ${s} is ${a}`,
  ],
  neutral: [
    'i ordered it on monday',
    'it arrived today',
    'the box contains one unit',
    'i bought it for my brother',
    'the color is blue',
    'it is a medium size',
    'delivered in two days',
    'average product',
    'it is okay',
    'nothing special',
    'as described',
    'i have not used it yet',
    'will update after a week',
    'the package came by courier',
    'it comes in three colours',
    'ok',
    'so so',
    'normal quality for the price',
  ],
  positivePhrases: [
    'highly recommend',
    'five stars',
    'will buy again',
    'exceeded my expectations',
    'exactly what i needed',
    'thank you seller',
    'best purchase this year',
    'works perfectly',
    'very satisfied with this purchase',
    'my kids love it',
  ],
  negativePhrases: [
    'do not buy',
    'one star',
    'never again',
    'asked for a refund',
    'it broke after a day',
    'does not work',
    'complete waste of money',
    'very disappointed',
    'item never arrived',
    'not as described',
  ],
};

const ID: Lexicon = {
  subjects: [
    'barangnya',
    'kualitasnya',
    'pengirimannya',
    'ukurannya',
    'bahannya',
    'penjualnya',
    'kemasannya',
    'produk ini',
    'harganya',
    'rasanya',
    'pelayanannya',
    'makanannya',
    'tempatnya',
  ],
  positive: [
    'bagus',
    'baik',
    'mantap',
    'enak',
    'cepat',
    'rapi',
    'puas',
    'keren',
    'murah',
    'nyaman',
    'lembut',
    'awet',
    'memuaskan',
    'ramah',
    'sesuai',
    'recommended',
    'cantik',
    'oke banget',
    'terbaik',
    'segar',
    'berkualitas',
    'top',
    'suka',
    'sangat membantu',
  ],
  negative: [
    'jelek',
    'buruk',
    'rusak',
    'lambat',
    'kecewa',
    'mahal',
    'kotor',
    'palsu',
    'cacat',
    'lama',
    'mengecewakan',
    'parah',
    'tidak sesuai',
    'kasar',
    'bau',
    'sobek',
    'basi',
    'hambar',
    'nyesel',
    'payah',
    'zonk',
    'menyesal',
    'tidak ramah',
    'kurang',
  ],
  negate: (a) => `tidak ${a}`,
  frames: [
    (s, a) => `${s} ${a}`,
    (s, a) => `${a}`,
    (s, a) => `${s} sangat ${a}`,
    (s, a) => `${a} sekali ${s}`,
    (s, a) => `menurut saya ${s} ${a}`,
  ],
  neutral: [
    'saya pesan hari senin',
    'barang sampai hari ini',
    'isi paketnya satu buah',
    'saya beli untuk adik',
    'warnanya biru',
    'ukuran m',
    'dikirim dua hari',
    'biasa saja',
    'lumayan',
    'standar',
    'sesuai deskripsi',
    'belum dicoba',
    'nanti saya kabari lagi',
    'dikirim lewat kurir',
    'ada tiga pilihan warna',
    'oke',
    'saya makan di sana kemarin siang',
    'tempatnya di jalan sudirman',
  ],
  positivePhrases: [
    'sangat direkomendasikan',
    'bintang lima',
    'bakal beli lagi',
    'melebihi harapan',
    'terima kasih kak',
    'pengiriman super cepat',
    'sesuai pesanan, mantap',
    'anak saya suka sekali',
  ],
  negativePhrases: [
    'jangan beli di sini',
    'bintang satu',
    'tidak akan beli lagi',
    'minta refund',
    'baru sehari sudah rusak',
    'tidak berfungsi',
    'buang buang uang',
    'kecewa berat',
    'barang tidak sampai',
    'tidak sesuai deskripsi',
  ],
};

const ZH: Lexicon = {
  subjects: [
    '质量',
    '物流',
    '尺码',
    '面料',
    '卖家',
    '包装',
    '这个东西',
    '价格',
    '电池',
    '味道',
    '客服',
    '发货',
    '屏幕',
    '衣服',
  ],
  positive: [
    '好',
    '很好',
    '不错',
    '满意',
    '喜欢',
    '快',
    '漂亮',
    '舒服',
    '划算',
    '结实',
    '精致',
    '新鲜',
    '好用',
    '超值',
    '完美',
    '给力',
    '实惠',
    '推荐',
    '清晰',
    '耐用',
    '正品',
    '好吃',
    '贴心',
    '耐心',
  ],
  negative: [
    '差',
    '很差',
    '失望',
    '慢',
    '坏了',
    '难看',
    '不舒服',
    '贵',
    '假货',
    '破损',
    '垃圾',
    '难用',
    '退货',
    '太小',
    '有异味',
    '掉色',
    '不新鲜',
    '卡顿',
    '敷衍',
    '后悔',
    '糟糕',
    '粗糙',
    '漏水',
    '不值',
  ],
  negate: (a) => `不${a.startsWith('很') ? a.slice(1) : a}`,
  frames: [
    (s, a) => `${s}${a}`,
    (s, a) => `${a}`,
    (s, a) => `${s}非常${a.startsWith('很') ? a.slice(1) : a}`,
    (s, a) => `${s}真的${a}`,
    (s, a) => `觉得${s}${a}`,
  ],
  neutral: [
    '周一下的单',
    '今天到货',
    '盒子里有一个',
    '给弟弟买的',
    '颜色是蓝色',
    '中号',
    '两天送到',
    '一般',
    '还行',
    '中规中矩',
    '和描述一样',
    '还没用',
    '用几天再来评价',
    '快递送来的',
    '有三种颜色',
    '普通',
  ],
  positivePhrases: [
    '强烈推荐',
    '五星好评',
    '还会再来买',
    '超出预期',
    '正是我需要的',
    '谢谢卖家',
    '物超所值',
    '用着很顺手',
    '家人都很喜欢',
  ],
  negativePhrases: [
    '千万别买',
    '一星',
    '再也不买了',
    '申请退款',
    '用了一天就坏了',
    '根本不能用',
    '浪费钱',
    '非常失望',
    '一直没收到货',
    '与描述不符',
  ],
};

/** The labelled examples of one lexicon: adjectives in every frame, negated adjectives, phrases, neutral remarks. */
function expand(lex: Lexicon): LabelledText[] {
  const out: LabelledText[] = [];
  const add = (text: string, label: SentimentLabel) => out.push({ text, label });
  lex.subjects.forEach((s, si) => {
    lex.frames.forEach((frame, fi) => {
      // Each subject meets a rotating slice of the adjectives: every adjective appears in every frame
      // without the full cross product (which would only repeat the same n-grams).
      for (let k = 0; k < 4; k++) {
        const pos = lex.positive[(si * 5 + fi * 3 + k) % lex.positive.length]!;
        const neg = lex.negative[(si * 5 + fi * 3 + k) % lex.negative.length]!;
        add(frame(s, pos), 'positive');
        add(frame(s, neg), 'negative');
        if (k === 0) add(frame(s, lex.negate(pos)), 'negative');
      }
    });
  });
  // Opinions beside factual context, so words of neutral remarks do not pull an opinion to neutral.
  lex.neutral.forEach((n, i) => {
    const s = lex.subjects[i % lex.subjects.length]!;
    add(`${n}, ${lex.frames[0]!(s, lex.positive[i % lex.positive.length]!)}`, 'positive');
    add(`${lex.frames[0]!(s, lex.negative[(i * 7) % lex.negative.length]!)}, ${n}`, 'negative');
  });
  for (const a of lex.positive) add(a, 'positive');
  for (const a of lex.negative) add(a, 'negative');
  for (const p of lex.positivePhrases) add(p, 'positive');
  for (const p of lex.negativePhrases) add(p, 'negative');
  // Neutral remarks are fewer than opinions in the templates; repeat them so the classes stay balanced.
  for (let r = 0; r < 4; r++) for (const n of lex.neutral) add(n, 'neutral');
  for (const s of lex.subjects) add(s, 'neutral');
  return out;
}

/** The built-in training set (en, id, zh). */
export function builtinSentimentExamples(): LabelledText[] {
  return [...expand(EN), ...expand(ID), ...expand(ZH)];
}
