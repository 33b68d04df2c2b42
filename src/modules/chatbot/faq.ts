/**
 * FAQ retrieval: BM25 over the shop's FAQ and policy passages in every language. Passages are indexed on
 * normalised tokens (Traditional folded to Simplified), so a question in either Chinese script finds the
 * same passage; every answer carries its source (title and URL) so the shopper can check it.
 */
import { prepare, type Lang } from './nlu/text.ts';

export type FaqEntry = {
  id: string;
  lang: Exclude<Lang, 'other' | 'zh-Hant'>;
  /** Title of the page the passage comes from (shown as the source). */
  title: string;
  url: string;
  question: string;
  answer: string;
};

export type FaqHit = { entry: FaqEntry; score: number };

export type FaqIndex = { search(text: string, lang: Lang, limit?: number): FaqHit[]; size: number };

const STOP = new Set(
  'the a an is are i my me you your to of do does can how what when where in on for and or it this that be with di ke yang dan saya apa bagaimana berapa kapan ada 的 吗 我 了 是 在 有 吧 呢 么'.split(
    ' ',
  ),
);

export function createFaqIndex(entries: readonly FaqEntry[], k1 = 1.2, b = 0.75): FaqIndex {
  const docs = entries.map((e) => {
    const toks = prepare(`${e.question} ${e.question} ${e.answer}`).tokens.filter((t) => !STOP.has(t));
    const tf = new Map<string, number>();
    for (const t of toks) tf.set(t, (tf.get(t) ?? 0) + 1);
    return { entry: e, tf, len: toks.length };
  });
  const df = new Map<string, number>();
  for (const d of docs) for (const t of d.tf.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  const avg = docs.reduce((s, d) => s + d.len, 0) / Math.max(1, docs.length);
  const n = docs.length;
  return {
    size: n,
    search(text, lang, limit = 3) {
      const q = [...new Set(prepare(text).tokens.filter((t) => !STOP.has(t)))];
      const want = lang === 'zh-Hant' ? 'zh-Hans' : lang;
      const hits: FaqHit[] = [];
      for (const d of docs) {
        let score = 0;
        for (const t of q) {
          const f = d.tf.get(t);
          if (!f) continue;
          const idf = Math.log(1 + (n - df.get(t)! + 0.5) / (df.get(t)! + 0.5));
          score += (idf * f * (k1 + 1)) / (f + k1 * (1 - b + (b * d.len) / avg));
        }
        // Same-language passages first; another language only when nothing in the shopper's matches.
        if (score > 0) hits.push({ entry: d.entry, score: d.entry.lang === want ? score * 1.5 : score });
      }
      return hits.sort((x, y) => y.score - x.score).slice(0, limit);
    },
  };
}

/** A starter FAQ so a fresh shop answers the usual policy questions; shops replace it through the API. */
export const DEFAULT_FAQ: FaqEntry[] = [
  {
    id: 'shipping-en',
    lang: 'en',
    title: 'Shipping policy',
    url: '/pages/shipping',
    question: 'How long does delivery take and how much does shipping cost?',
    answer:
      'Orders ship within 1 business day; delivery takes 2–5 business days. Shipping is free above the free-shipping threshold shown at checkout.',
  },
  {
    id: 'shipping-id',
    lang: 'id',
    title: 'Kebijakan pengiriman',
    url: '/pages/shipping',
    question: 'Berapa lama pengiriman dan berapa ongkos kirim?',
    answer:
      'Pesanan dikirim dalam 1 hari kerja; pengiriman memakan waktu 2–5 hari kerja. Gratis ongkir di atas batas yang tertera saat checkout.',
  },
  {
    id: 'shipping-zh',
    lang: 'zh-Hans',
    title: '配送政策',
    url: '/pages/shipping',
    question: '配送需要多久，运费多少？',
    answer: '订单在1个工作日内发货，配送需要2至5个工作日。结账时满足包邮门槛即可免运费。',
  },
  {
    id: 'returns-en',
    lang: 'en',
    title: 'Returns and refunds',
    url: '/pages/returns',
    question: 'How do I return an item and get a refund?',
    answer:
      'You can return unused items within 30 days. Start the return from your order page; refunds reach your original payment method within 5–10 business days after we receive the item.',
  },
  {
    id: 'returns-id',
    lang: 'id',
    title: 'Retur dan refund',
    url: '/pages/returns',
    question: 'Bagaimana cara retur barang dan refund?',
    answer:
      'Barang yang belum dipakai bisa diretur dalam 30 hari. Mulai retur dari halaman pesanan; dana kembali ke metode pembayaran awal dalam 5–10 hari kerja setelah barang kami terima.',
  },
  {
    id: 'returns-zh',
    lang: 'zh-Hans',
    title: '退货与退款',
    url: '/pages/returns',
    question: '怎么退货和退款？',
    answer:
      '未使用的商品可在30天内退货。请在订单页面发起退货；我们收到商品后5至10个工作日内退款至原支付方式。',
  },
  {
    id: 'payment-en',
    lang: 'en',
    title: 'Payments',
    url: '/pages/payments',
    question: 'Which payment methods do you accept? My payment failed.',
    answer:
      'We accept cards, bank transfer and e-wallets. If a payment failed, no money was taken; a pending charge is released by your bank within 3 days. We never ask for your card number or codes in chat.',
  },
  {
    id: 'payment-id',
    lang: 'id',
    title: 'Pembayaran',
    url: '/pages/payments',
    question: 'Metode pembayaran apa saja? Pembayaran saya gagal.',
    answer:
      'Kami menerima kartu, transfer bank dan e-wallet. Jika pembayaran gagal, dana tidak terpotong; dana tertahan dilepas bank dalam 3 hari. Kami tidak pernah meminta nomor kartu atau kode di chat.',
  },
  {
    id: 'payment-zh',
    lang: 'zh-Hans',
    title: '付款',
    url: '/pages/payments',
    question: '支持哪些付款方式？付款失败怎么办？',
    answer:
      '我们支持银行卡、银行转账和电子钱包。付款失败不会扣款；预授权金额会在3天内由银行退回。我们绝不会在聊天中索要卡号或验证码。',
  },
  {
    id: 'cancel-en',
    lang: 'en',
    title: 'Order changes',
    url: '/pages/orders',
    question: 'Can I cancel or change my order?',
    answer:
      'Orders can be cancelled or changed until they ship. After shipping, please return the item instead.',
  },
  {
    id: 'cancel-id',
    lang: 'id',
    title: 'Perubahan pesanan',
    url: '/pages/orders',
    question: 'Bisakah saya membatalkan atau mengubah pesanan?',
    answer: 'Pesanan bisa dibatalkan atau diubah sebelum dikirim. Setelah dikirim, silakan lakukan retur.',
  },
  {
    id: 'cancel-zh',
    lang: 'zh-Hans',
    title: '订单修改',
    url: '/pages/orders',
    question: '可以取消或修改订单吗？',
    answer: '订单发货前可以取消或修改。发货后请办理退货。',
  },
];
