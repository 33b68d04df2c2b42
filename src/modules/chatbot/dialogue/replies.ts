/**
 * What the bot says, per language. Chinese replies are written once in Simplified and converted to
 * Traditional for shoppers who write Traditional, so the two never drift apart.
 */
import { traditional, type Lang } from '../nlu/text.ts';

type Text = { en: string; id: string; zh: string };

export const REPLIES = {
  greet: {
    en: 'Hi! I can help with orders, shipping, returns, payments, products and your privacy. What do you need?',
    id: 'Halo! Saya bisa bantu soal pesanan, pengiriman, retur, pembayaran, produk dan privasi Anda. Ada yang bisa dibantu?',
    zh: '您好！我可以帮您查询订单、配送、退货、付款、商品和隐私问题。请问需要什么帮助？',
  },
  thanks: {
    en: 'You are welcome! Anything else?',
    id: 'Sama-sama! Ada lagi yang bisa dibantu?',
    zh: '不客气！还有其他需要帮忙的吗？',
  },
  ask_order_id: {
    en: 'Sure. What is your order number (for example ORD-12345)?',
    id: 'Baik. Berapa nomor pesanan Anda (contoh ORD-12345)?',
    zh: '好的，请提供您的订单号（例如 ORD-12345）。',
  },
  bad_order_id: {
    en: 'That does not look like an order number. It is on your confirmation e-mail, like ORD-12345.',
    id: 'Itu sepertinya bukan nomor pesanan. Nomornya ada di e-mail konfirmasi, contoh ORD-12345.',
    zh: '这看起来不像订单号。订单号在确认邮件里，例如 ORD-12345。',
  },
  ask_email: {
    en: 'To protect your privacy, please give the e-mail address used for that order.',
    id: 'Untuk melindungi privasi Anda, mohon sebutkan alamat e-mail yang dipakai untuk pesanan itu.',
    zh: '为保护您的隐私，请提供下单时使用的电子邮箱。',
  },
  bad_email: {
    en: 'Please type the e-mail address you used for the order (like name@example.com).',
    id: 'Mohon ketik alamat e-mail yang Anda pakai untuk pesanan (contoh nama@contoh.com).',
    zh: '请输入下单时使用的邮箱地址（例如 name@example.com）。',
  },
  order_not_verified: {
    en: 'I could not find an order with that number and e-mail. Please check both, or ask for a human.',
    id: 'Saya tidak menemukan pesanan dengan nomor dan e-mail itu. Mohon periksa lagi, atau minta bicara dengan petugas.',
    zh: '没有找到与该订单号和邮箱匹配的订单。请核对后再试，或转人工客服。',
  },
  order_status: {
    en: 'Order {order}: {status}.',
    id: 'Pesanan {order}: {status}.',
    zh: '订单 {order}：{status}。',
  },
  order_tracking: {
    en: 'It is with {carrier}, tracking number {tracking}.',
    id: 'Dikirim lewat {carrier}, nomor resi {tracking}.',
    zh: '承运商：{carrier}，运单号：{tracking}。',
  },
  order_tracking_number: {
    en: 'Tracking number: {tracking}.',
    id: 'Nomor resi: {tracking}.',
    zh: '运单号：{tracking}。',
  },
  order_not_cancellable: {
    en: 'Order {order} is already {status}, so it can no longer be cancelled here. Ask me about returns if you want to send it back.',
    id: 'Pesanan {order} sudah {status}, jadi tidak bisa dibatalkan lagi di sini. Tanyakan soal retur jika ingin mengembalikannya.',
    zh: '订单 {order} {status}，无法在此取消。如需退回，请咨询退货事宜。',
  },
  order_verify_locked: {
    en: 'I could not verify that order, so I am passing you to a colleague who can help.',
    id: 'Saya tidak bisa memverifikasi pesanan itu, jadi saya teruskan ke rekan kami yang bisa membantu.',
    zh: '无法验证该订单，我将为您转接人工客服。',
  },
  orders_unavailable: {
    en: 'I cannot look up orders right now, so I am passing you to a colleague.',
    id: 'Saya belum bisa mengecek pesanan saat ini, jadi saya teruskan ke rekan kami.',
    zh: '目前无法查询订单，我将为您转接人工客服。',
  },
  cancel_order: {
    en: 'I have asked a colleague to cancel order {order}; you will get a confirmation e-mail.',
    id: 'Saya sudah meminta rekan kami membatalkan pesanan {order}; Anda akan menerima e-mail konfirmasi.',
    zh: '已请同事为您取消订单 {order}，您会收到确认邮件。',
  },
  product: {
    en: '{title}: {price} {currency}, {stock}.',
    id: '{title}: {price} {currency}, {stock}.',
    zh: '{title}：{price} {currency}，{stock}。',
  },
  in_stock: { en: 'in stock', id: 'stok tersedia', zh: '有货' },
  out_of_stock: { en: 'out of stock', id: 'stok habis', zh: '缺货' },
  ask_product: {
    en: 'Which product do you mean? Please type its name.',
    id: 'Produk yang mana? Mohon ketik namanya.',
    zh: '请问是哪件商品？请输入商品名称。',
  },
  recommendations: {
    en: 'You might like: {items}.',
    id: 'Mungkin Anda suka: {items}.',
    zh: '您可能会喜欢：{items}。',
  },
  recommendations_generic: {
    en: 'Our best sellers are on the home page; tell me a product you like and I will find similar ones.',
    id: 'Produk terlaris ada di halaman utama; sebutkan produk yang Anda suka dan saya carikan yang mirip.',
    zh: '热销商品在首页；告诉我您喜欢的商品，我帮您找相似的。',
  },
  loyalty: { en: 'You have {points} points.', id: 'Poin Anda: {points}.', zh: '您有 {points} 积分。' },
  login_needed: {
    en: 'Please sign in to the shop first so I know it is you, then ask again.',
    id: 'Mohon masuk (login) ke toko terlebih dahulu agar saya tahu ini Anda, lalu tanyakan lagi.',
    zh: '请先登录商店以便确认您的身份，然后再问我。',
  },
  fraud: {
    en: 'Thank you for telling us. I opened a case ({case}) for our security team and am passing you to a colleague. We will never ask for your password, card number or codes.',
    id: 'Terima kasih sudah melapor. Saya membuka kasus ({case}) untuk tim keamanan dan meneruskan Anda ke rekan kami. Kami tidak akan pernah meminta kata sandi, nomor kartu, atau kode Anda.',
    zh: '感谢您的举报。我已为安全团队创建案件（{case}），并为您转接同事。我们绝不会索要您的密码、卡号或验证码。',
  },
  privacy_export: {
    en: 'You can download everything we hold about you in the privacy centre (Download my data) after signing in.',
    id: 'Anda bisa mengunduh semua data tentang Anda di pusat privasi (Unduh data saya) setelah login.',
    zh: '登录后可在隐私中心（下载我的数据）下载我们保存的关于您的全部数据。',
  },
  privacy_delete: {
    en: 'You can erase your data in the privacy centre (Delete my data) after signing in; it takes effect at once.',
    id: 'Anda bisa menghapus data Anda di pusat privasi (Hapus data saya) setelah login; langsung berlaku.',
    zh: '登录后可在隐私中心（删除我的数据）删除您的数据，立即生效。',
  },
  unsubscribe: {
    en: 'Use the unsubscribe link in any of our e-mails, or switch marketing e-mails off in the privacy centre.',
    id: 'Gunakan tautan berhenti langganan di e-mail kami, atau matikan e-mail pemasaran di pusat privasi.',
    zh: '点击我们任意邮件中的退订链接，或在隐私中心关闭营销邮件。',
  },
  personalization_off: {
    en: 'You can switch personalisation off in the privacy centre; recommendations then use no data about you.',
    id: 'Anda bisa mematikan personalisasi di pusat privasi; rekomendasi tidak lagi memakai data Anda.',
    zh: '您可以在隐私中心关闭个性化，之后推荐将不再使用您的数据。',
  },
  personalization_done: {
    en: 'Done: personalisation is off. Recommendations no longer use data about you.',
    id: 'Selesai: personalisasi dimatikan. Rekomendasi tidak lagi memakai data Anda.',
    zh: '已完成：个性化已关闭，推荐不再使用您的数据。',
  },
  handoff: {
    en: 'I am passing you to a colleague; they will reply here shortly.',
    id: 'Saya teruskan ke rekan kami; mereka akan membalas di sini sebentar lagi.',
    zh: '正在为您转接人工客服，稍后会在这里回复您。',
  },
  waiting_agent: {
    en: 'A colleague has your conversation and will reply here.',
    id: 'Rekan kami sedang menangani percakapan Anda dan akan membalas di sini.',
    zh: '人工客服已接手您的对话，会在这里回复您。',
  },
  clarify: {
    en: 'Sorry, I did not get that. Did you mean: {options}? You can also rephrase.',
    id: 'Maaf, saya kurang paham. Maksud Anda: {options}? Atau silakan ulangi dengan kata lain.',
    zh: '抱歉，我没听懂。您是想问：{options}？也可以换个说法。',
  },
  clarify_plain: {
    en: 'Sorry, I did not get that. Could you rephrase?',
    id: 'Maaf, saya kurang paham. Bisa diulang dengan kata lain?',
    zh: '抱歉，我没听懂。能换个说法吗？',
  },
  phishing: {
    en: 'Please never share passwords, full card numbers or one-time codes — not even with us. I have removed it from this chat.',
    id: 'Jangan pernah membagikan kata sandi, nomor kartu lengkap, atau kode OTP — termasuk kepada kami. Sudah saya hapus dari obrolan ini.',
    zh: '请勿分享密码、完整卡号或验证码——对我们也不要。我已将其从对话中删除。',
  },
  faq: {
    en: '{answer} (source: {source})',
    id: '{answer} (sumber: {source})',
    zh: '{answer}（来源：{source}）',
  },
  resolved: {
    en: 'This conversation was closed. Write again any time.',
    id: 'Percakapan ini sudah ditutup. Silakan tulis lagi kapan saja.',
    zh: '此对话已结束，欢迎随时再来咨询。',
  },
} as const satisfies Record<string, Text>;

export type ReplyKey = keyof typeof REPLIES;

/** The reply in the shopper's language, with `{name}` placeholders filled in. */
export function say(key: ReplyKey, lang: Lang, vars: Record<string, string | number> = {}): string {
  const t: Text = REPLIES[key];
  let s = lang === 'id' ? t.id : lang === 'zh-Hans' || lang === 'zh-Hant' ? t.zh : t.en;
  for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return lang === 'zh-Hant' ? traditional(s) : s;
}

export const INTENT_NAMES: Record<string, Text> = {
  order_status: { en: 'order status', id: 'status pesanan', zh: '订单状态' },
  shipping: { en: 'shipping', id: 'pengiriman', zh: '配送' },
  returns_refunds: { en: 'returns and refunds', id: 'retur dan refund', zh: '退货退款' },
  cancel_order: { en: 'cancelling an order', id: 'pembatalan pesanan', zh: '取消订单' },
  payment_problem: { en: 'payment', id: 'pembayaran', zh: '付款' },
  product_question: { en: 'a product', id: 'produk', zh: '商品' },
  recommendations: { en: 'recommendations', id: 'rekomendasi', zh: '推荐' },
  loyalty_balance: { en: 'loyalty points', id: 'poin', zh: '积分' },
  report_fraud: { en: 'a suspicious transaction', id: 'transaksi mencurigakan', zh: '可疑交易' },
  privacy_export: { en: 'your data', id: 'data Anda', zh: '您的数据' },
  privacy_delete: { en: 'deleting your data', id: 'hapus data', zh: '删除数据' },
  unsubscribe: { en: 'unsubscribing', id: 'berhenti langganan', zh: '退订' },
  personalization_off: { en: 'personalisation', id: 'personalisasi', zh: '个性化' },
  human_agent: { en: 'talking to a person', id: 'bicara dengan petugas', zh: '人工客服' },
};

/** Order statuses as the bot says them (the orders module's status values). */
export const ORDER_STATUS_NAMES: Record<string, Text> = {
  placed: {
    en: 'received, waiting for payment',
    id: 'diterima, menunggu pembayaran',
    zh: '已下单，等待付款',
  },
  paid: { en: 'paid and being prepared', id: 'sudah dibayar dan sedang disiapkan', zh: '已付款，正在备货' },
  shipped: { en: 'shipped', id: 'sudah dikirim', zh: '已发货' },
  delivered: { en: 'delivered', id: 'sudah diterima', zh: '已送达' },
  cancelled: { en: 'cancelled', id: 'dibatalkan', zh: '已取消' },
  refunded: { en: 'refunded', id: 'dananya sudah dikembalikan', zh: '已退款' },
  partially_refunded: { en: 'partly refunded', id: 'dananya dikembalikan sebagian', zh: '已部分退款' },
};

export function statusName(status: string, lang: Lang): string {
  const t = ORDER_STATUS_NAMES[status];
  if (!t) return status;
  const s = lang === 'id' ? t.id : lang === 'zh-Hans' || lang === 'zh-Hant' ? t.zh : t.en;
  return lang === 'zh-Hant' ? traditional(s) : s;
}

export function intentName(intent: string, lang: Lang): string {
  const t = INTENT_NAMES[intent];
  if (!t) return intent;
  const s = lang === 'id' ? t.id : lang === 'zh-Hans' || lang === 'zh-Hant' ? t.zh : t.en;
  return lang === 'zh-Hant' ? traditional(s) : s;
}
