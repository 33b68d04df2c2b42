/**
 * The built-in shop intents and their training sentences in English, Indonesian, Simplified and Traditional
 * Chinese. Traditional sentences are normalised to Simplified before features are taken, so a few of them
 * suffice; they stay here so the per-language test covers what shoppers really type.
 */
import type { Example } from '../nlu/classifier.ts';
import type { Lang } from '../nlu/text.ts';

export const SHOP_INTENTS = [
  'greet',
  'thanks',
  'order_status',
  'shipping',
  'returns_refunds',
  'cancel_order',
  'payment_problem',
  'product_question',
  'recommendations',
  'loyalty_balance',
  'report_fraud',
  'privacy_export',
  'privacy_delete',
  'unsubscribe',
  'personalization_off',
  'human_agent',
] as const;

export type ShopIntent = (typeof SHOP_INTENTS)[number];

type Phrases = Partial<Record<Exclude<Lang, 'other'>, string[]>>;

const TRAINING: Record<ShopIntent | 'oos', Phrases> = {
  greet: {
    en: ['hi', 'hello', 'hey there', 'good morning', 'hello, anyone there?', 'hi team'],
    id: ['halo', 'hai kak', 'selamat pagi', 'permisi min', 'halo admin', 'selamat siang'],
    'zh-Hans': ['你好', '您好', '在吗', '哈喽', '早上好'],
    'zh-Hant': ['你好', '您好', '在嗎', '早安'],
  },
  thanks: {
    en: ['thanks', 'thank you so much', 'great, thanks for the help', 'cheers', 'that helped, thank you'],
    id: ['terima kasih', 'makasih kak', 'thanks min', 'oke makasih banyak', 'terima kasih atas bantuannya'],
    'zh-Hans': ['谢谢', '多谢', '谢谢你的帮助', '好的谢谢'],
    'zh-Hant': ['謝謝', '多謝', '謝謝你的幫助'],
  },
  order_status: {
    en: [
      'where is my order',
      'track my order',
      'what is the status of my order',
      'has my order shipped yet',
      'my package has not arrived',
      'order status for ORD-12345',
      'when will my order arrive',
      'can you check my order',
    ],
    id: [
      'pesanan saya di mana',
      'lacak pesanan saya',
      'status pesanan saya bagaimana',
      'paket saya belum sampai',
      'kapan pesanan saya datang',
      'cek pesanan dong',
      'pesanan saya sudah dikirim belum',
    ],
    'zh-Hans': [
      '我的订单在哪里',
      '查询订单状态',
      '我的包裹还没到',
      '订单什么时候到',
      '帮我查一下订单',
      '我的订单发货了吗',
    ],
    'zh-Hant': ['我的訂單在哪裡', '查詢訂單狀態', '我的包裹還沒到', '訂單什麼時候到'],
  },
  shipping: {
    en: [
      'how much is shipping',
      'do you ship to singapore',
      'how long does delivery take',
      'what are the shipping options',
      'is there free shipping',
      'which couriers do you use',
    ],
    id: [
      'berapa ongkos kirim',
      'pengiriman berapa lama',
      'bisa kirim ke surabaya',
      'ada gratis ongkir',
      'pakai kurir apa',
      'biaya pengiriman ke bali berapa',
    ],
    'zh-Hans': ['运费多少', '配送需要多久', '可以寄到新加坡吗', '有包邮吗', '用什么快递'],
    'zh-Hant': ['運費多少', '配送需要多久', '有免運費嗎'],
  },
  returns_refunds: {
    en: [
      'i want to return an item',
      'how do i get a refund',
      'what is your return policy',
      'the product is damaged, i want my money back',
      'when will i get my refund',
      'can i exchange this for another size',
    ],
    id: [
      'saya mau retur barang',
      'bagaimana cara refund',
      'kebijakan pengembalian barang apa',
      'barang rusak minta uang kembali',
      'kapan dana refund masuk',
      'bisa tukar ukuran',
    ],
    'zh-Hans': [
      '我想退货',
      '怎么申请退款',
      '退货政策是什么',
      '商品坏了我要退款',
      '退款什么时候到账',
      '可以换尺码吗',
    ],
    'zh-Hant': ['我想退貨', '怎麼申請退款', '退貨政策是什麼', '退款什麼時候到帳'],
  },
  cancel_order: {
    en: [
      'cancel my order',
      'i want to cancel the order i just placed',
      'how do i cancel an order',
      'please cancel order ORD-5555',
      'stop my order',
    ],
    id: [
      'batalkan pesanan saya',
      'saya mau batal pesan',
      'cara membatalkan pesanan',
      'tolong cancel pesanan',
    ],
    'zh-Hans': ['取消我的订单', '我要取消订单', '怎么取消订单', '帮我取消刚下的单'],
    'zh-Hant': ['取消我的訂單', '我要取消訂單', '怎麼取消訂單'],
  },
  payment_problem: {
    en: [
      'my payment failed',
      'i was charged twice',
      'card declined at checkout',
      'payment did not go through',
      'which payment methods do you accept',
      'money was deducted but order not confirmed',
    ],
    id: [
      'pembayaran saya gagal',
      'saya ditagih dua kali',
      'kartu ditolak saat bayar',
      'sudah transfer tapi pesanan belum dikonfirmasi',
      'metode pembayaran apa saja',
    ],
    'zh-Hans': ['付款失败', '我被扣了两次钱', '信用卡被拒绝', '钱扣了但订单没确认', '支持哪些付款方式'],
    'zh-Hant': ['付款失敗', '我被扣了兩次錢', '信用卡被拒絕'],
  },
  product_question: {
    en: [
      'is this in stock',
      'how much does it cost',
      'what sizes are available',
      'what material is it made of',
      'tell me about this product',
      'do you have this in blue',
      'what is the price of the',
    ],
    id: [
      'apakah stok masih ada',
      'harganya berapa',
      'ukuran apa saja yang tersedia',
      'bahannya apa',
      'ada warna biru',
      'ready stok kak',
    ],
    'zh-Hans': ['有货吗', '多少钱', '有哪些尺码', '是什么材质', '有蓝色的吗', '这个商品怎么样'],
    'zh-Hant': ['有貨嗎', '多少錢', '有哪些尺碼', '是什麼材質'],
  },
  recommendations: {
    en: [
      'what do you recommend',
      'suggest something for me',
      'any gift ideas',
      'what is popular right now',
      'show me something similar',
      'recommend a product',
    ],
    id: [
      'rekomendasi produk dong',
      'ada saran hadiah',
      'produk apa yang lagi populer',
      'kasih rekomendasi',
      'yang mirip ada',
    ],
    'zh-Hans': ['推荐一下', '有什么好推荐的', '送礼买什么好', '最近流行什么', '给我推荐商品'],
    'zh-Hant': ['推薦一下', '有什麼好推薦的', '送禮買什麼好'],
  },
  loyalty_balance: {
    en: [
      'how many points do i have',
      'check my loyalty balance',
      'my reward points',
      'how do i use my points',
    ],
    id: ['poin saya berapa', 'cek saldo poin', 'poin reward saya', 'cara pakai poin'],
    'zh-Hans': ['我有多少积分', '查积分余额', '积分怎么用'],
    'zh-Hant': ['我有多少積分', '查積分餘額', '積分怎麼用'],
  },
  report_fraud: {
    en: [
      'i see a transaction i did not make',
      'someone used my account',
      'report a suspicious transaction',
      'i think my account was hacked',
      'unauthorized order on my account',
      'i got a scam message pretending to be you',
    ],
    id: [
      'ada transaksi yang bukan saya',
      'akun saya dibobol',
      'lapor transaksi mencurigakan',
      'ada pesanan yang tidak saya buat',
      'saya dapat pesan penipuan',
    ],
    'zh-Hans': ['有一笔不是我的交易', '我的账户被盗了', '举报可疑交易', '有人冒充你们骗我'],
    'zh-Hant': ['有一筆不是我的交易', '我的帳戶被盜了', '舉報可疑交易'],
  },
  privacy_export: {
    en: [
      'what do you know about me',
      'give me a copy of my data',
      'download my personal data',
      'what data do you store about me',
    ],
    id: ['data apa yang kalian simpan tentang saya', 'minta salinan data saya', 'unduh data pribadi saya'],
    'zh-Hans': ['你们有我的哪些数据', '导出我的个人数据', '给我一份我的数据'],
    'zh-Hant': ['你們有我的哪些資料', '匯出我的個人資料'],
  },
  privacy_delete: {
    en: [
      'delete my data',
      'erase my account and all my information',
      'remove my personal data',
      'i want to be forgotten',
      'close my account',
    ],
    id: ['hapus data saya', 'hapus akun saya', 'tolong hapus semua data pribadi saya', 'tutup akun saya'],
    'zh-Hans': ['删除我的数据', '注销我的账户', '删除我的个人信息'],
    'zh-Hant': ['刪除我的資料', '註銷我的帳戶', '刪除我的個人資訊'],
  },
  unsubscribe: {
    en: ['unsubscribe me', 'stop sending me emails', 'no more newsletters', 'stop marketing messages'],
    id: ['berhenti langganan', 'jangan kirim email promo lagi', 'stop newsletter'],
    'zh-Hans': ['取消订阅', '不要再给我发邮件', '退订推广信息'],
    'zh-Hant': ['取消訂閱', '不要再寄郵件給我'],
  },
  personalization_off: {
    en: [
      'turn off personalization',
      'stop personalizing my recommendations',
      'do not track my interests',
      'disable personalised ads',
    ],
    id: ['matikan personalisasi', 'jangan lacak minat saya', 'nonaktifkan rekomendasi personal'],
    'zh-Hans': ['关闭个性化推荐', '不要追踪我的兴趣', '关掉个性化'],
    'zh-Hant': ['關閉個人化推薦', '不要追蹤我的興趣'],
  },
  human_agent: {
    en: [
      'talk to a human',
      'i want to speak to an agent',
      'connect me with customer service',
      'real person please',
      'can i talk to someone',
    ],
    id: [
      'mau bicara dengan admin',
      'sambungkan ke cs',
      'minta bicara dengan orang',
      'hubungi customer service',
    ],
    'zh-Hans': ['转人工', '我要找人工客服', '联系客服', '找真人'],
    'zh-Hant': ['轉人工', '我要找人工客服', '聯繫客服'],
  },
  // Out-of-scope examples teach the model what a shop bot is not for.
  oos: {
    en: [
      'what is the weather tomorrow',
      'tell me a joke',
      'who won the football game',
      'what is the capital of france',
      'play some music',
      'how do i cook rice',
      'book a flight to tokyo',
    ],
    id: [
      'cuaca besok bagaimana',
      'ceritakan lelucon',
      'siapa presiden amerika',
      'resep nasi goreng',
      'putar lagu',
    ],
    'zh-Hans': ['明天天气怎么样', '讲个笑话', '法国的首都是哪里', '帮我订机票', '放首歌'],
    'zh-Hant': ['明天天氣怎麼樣', '講個笑話'],
  },
};

/** Every built-in training sentence with its language (the per-language check and the shop model use it). */
export function shopTrainingExamples(): Example[] {
  const out: Example[] = [];
  for (const [label, phrases] of Object.entries(TRAINING))
    for (const [lang, list] of Object.entries(phrases) as [Lang, string[]][])
      for (const text of list) out.push({ text, label, lang });
  return out;
}
