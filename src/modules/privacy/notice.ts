/**
 * The source of the shopper-facing "how your data is used" page, in English, Indonesian and Chinese. The
 * texts are fixed here; the lists (retention periods, processors) come from the installation's settings.
 */
export const NOTICE_LOCALES = ['en', 'id', 'zh'] as const;
export type NoticeLocale = (typeof NOTICE_LOCALES)[number];

type Texts = {
  title: string;
  intro: string;
  purposes: Record<string, { title: string; description: string }>;
  rights: { right: string; text: string }[];
  retentionIntro: string;
  retention: Record<string, string>;
  processorsIntro: string;
  automatedIntro: string;
};

const EN: Texts = {
  title: 'How your data is used',
  intro:
    'This shop uses Candor to understand how its store is used and to personalise what you see. Nothing is collected for a purpose until you agree to it, and you can see, download or delete everything at any time.',
  purposes: {
    necessary: {
      title: 'Running the shop',
      description: 'Processing your orders and preventing fraud. Needed to sell to you; no consent is asked.',
    },
    analytics: {
      title: 'Analytics',
      description:
        'Counting visits, searches and purchases to improve the shop, under a pseudonym, never your name.',
    },
    personalization: {
      title: 'Personalisation',
      description:
        'Recommending products from what you viewed and bought. You can turn it off at once; then nothing about you is used to rank or recommend.',
    },
    marketing_email: { title: 'Marketing e-mail', description: 'Sending you offers by e-mail.' },
    marketing_push: {
      title: 'Push messages',
      description: 'Sending you offers as app or browser notifications.',
    },
    advertising: {
      title: 'Advertising',
      description: 'Sharing data with advertising partners to show you ads elsewhere.',
    },
    sale: {
      title: 'Sale of data',
      description: 'Selling or sharing data for value (California law). Off unless you turn it on.',
    },
  },
  rights: [
    { right: 'access', text: 'Download everything we hold about you, as JSON and CSV, at once.' },
    {
      right: 'erasure',
      text: 'Delete everything about you, in seconds, with a signed receipt. Records the law makes us keep (such as invoices for tax) are listed in the receipt.',
    },
    { right: 'rectification', text: 'Correct your e-mail, phone, name or address.' },
    {
      right: 'objection',
      text: 'Turn personalisation off, and delete interest tags one by one; a deleted tag is never derived again.',
    },
    {
      right: 'withdraw_consent',
      text: 'Change your consent for any purpose at any time; it applies from that moment.',
    },
  ],
  retentionIntro: 'How long each kind of data is kept:',
  retention: {
    'events.anonymous': 'Browsing events of visitors who are not signed in',
    'events.identified': 'Browsing events of signed-in customers',
    orders: 'Order records (kept for tax law)',
    reviews: 'Product reviews',
    chat_transcripts: 'Customer-service chat transcripts',
    quarantine: 'Rejected tracking data kept for diagnosis (no personal data)',
  },
  processorsIntro: 'Companies that process data for this shop:',
  automatedIntro:
    'Automated decisions: the shop computes a few scores from your activity (listed in your export with what each one changes). None of them changes prices.',
};

const ID: Texts = {
  title: 'Bagaimana data Anda digunakan',
  intro:
    'Toko ini memakai Candor untuk memahami penggunaan tokonya dan menyesuaikan apa yang Anda lihat. Tidak ada data yang dikumpulkan untuk suatu tujuan sebelum Anda menyetujuinya, dan Anda dapat melihat, mengunduh, atau menghapus semuanya kapan saja.',
  purposes: {
    necessary: {
      title: 'Menjalankan toko',
      description:
        'Memproses pesanan Anda dan mencegah penipuan. Diperlukan untuk berjualan kepada Anda; tidak memerlukan persetujuan.',
    },
    analytics: {
      title: 'Analitik',
      description:
        'Menghitung kunjungan, pencarian, dan pembelian untuk memperbaiki toko, dengan nama samaran, tidak pernah dengan nama Anda.',
    },
    personalization: {
      title: 'Personalisasi',
      description:
        'Merekomendasikan produk dari apa yang Anda lihat dan beli. Anda dapat mematikannya seketika; setelah itu tidak ada data Anda yang dipakai untuk rekomendasi.',
    },
    marketing_email: { title: 'E-mail pemasaran', description: 'Mengirimkan penawaran melalui e-mail.' },
    marketing_push: {
      title: 'Notifikasi',
      description: 'Mengirimkan penawaran sebagai notifikasi aplikasi atau peramban.',
    },
    advertising: {
      title: 'Iklan',
      description: 'Membagikan data kepada mitra iklan untuk menampilkan iklan di tempat lain.',
    },
    sale: {
      title: 'Penjualan data',
      description:
        'Menjual atau membagikan data untuk imbalan (hukum California). Mati kecuali Anda menyalakannya.',
    },
  },
  rights: [
    { right: 'access', text: 'Unduh semua data kami tentang Anda, dalam JSON dan CSV, seketika.' },
    {
      right: 'erasure',
      text: 'Hapus semua data tentang Anda dalam hitungan detik, dengan tanda terima bertanda tangan. Catatan yang wajib kami simpan menurut hukum (seperti faktur pajak) dicantumkan di tanda terima.',
    },
    { right: 'rectification', text: 'Perbaiki e-mail, nomor telepon, nama, atau alamat Anda.' },
    {
      right: 'objection',
      text: 'Matikan personalisasi, dan hapus label minat satu per satu; label yang dihapus tidak akan diturunkan lagi.',
    },
    {
      right: 'withdraw_consent',
      text: 'Ubah persetujuan Anda untuk tujuan apa pun kapan saja; berlaku sejak saat itu.',
    },
  ],
  retentionIntro: 'Berapa lama setiap jenis data disimpan:',
  retention: {
    'events.anonymous': 'Aktivitas penjelajahan pengunjung yang belum masuk',
    'events.identified': 'Aktivitas penjelajahan pelanggan yang sudah masuk',
    orders: 'Catatan pesanan (disimpan sesuai hukum perpajakan)',
    reviews: 'Ulasan produk',
    chat_transcripts: 'Transkrip obrolan layanan pelanggan',
    quarantine: 'Data pelacakan yang ditolak, disimpan untuk diagnosis (tanpa data pribadi)',
  },
  processorsIntro: 'Perusahaan yang memproses data untuk toko ini:',
  automatedIntro:
    'Keputusan otomatis: toko menghitung beberapa skor dari aktivitas Anda (tercantum dalam ekspor Anda beserta pengaruhnya). Tidak satu pun mengubah harga.',
};

const ZH: Texts = {
  title: '我们如何使用您的数据',
  intro:
    '本店使用 Candor 了解店铺的使用情况并为您提供个性化内容。在您同意之前，不会为任何目的收集数据；您可以随时查看、下载或删除全部数据。',
  purposes: {
    necessary: {
      title: '店铺运营',
      description: '处理您的订单并防范欺诈。这是向您销售所必需的，无需征求同意。',
    },
    analytics: {
      title: '统计分析',
      description: '以假名统计访问、搜索和购买情况以改进店铺，绝不使用您的姓名。',
    },
    personalization: {
      title: '个性化',
      description:
        '根据您浏览和购买的商品推荐商品。您可以随时立即关闭；关闭后不会使用您的任何数据进行排序或推荐。',
    },
    marketing_email: { title: '营销邮件', description: '通过电子邮件向您发送优惠信息。' },
    marketing_push: { title: '推送消息', description: '通过应用或浏览器通知向您发送优惠信息。' },
    advertising: { title: '广告', description: '与广告合作伙伴共享数据，以便在其他地方向您展示广告。' },
    sale: {
      title: '出售数据',
      description: '为获取对价而出售或共享数据（加州法律）。除非您开启，否则保持关闭。',
    },
  },
  rights: [
    { right: 'access', text: '立即以 JSON 和 CSV 格式下载我们持有的关于您的全部数据。' },
    {
      right: 'erasure',
      text: '在数秒内删除关于您的全部数据，并获得签名回执。法律要求保留的记录（如税务发票）会列在回执中。',
    },
    { right: 'rectification', text: '更正您的电子邮件、电话、姓名或地址。' },
    { right: 'objection', text: '关闭个性化，并逐个删除兴趣标签；已删除的标签不会再次生成。' },
    { right: 'withdraw_consent', text: '随时更改您对任何目的的同意，自更改时起生效。' },
  ],
  retentionIntro: '各类数据的保存期限：',
  retention: {
    'events.anonymous': '未登录访客的浏览事件',
    'events.identified': '已登录顾客的浏览事件',
    orders: '订单记录（按税法保存）',
    reviews: '商品评价',
    chat_transcripts: '客服聊天记录',
    quarantine: '被拒绝的跟踪数据，仅用于诊断（不含个人数据）',
  },
  processorsIntro: '为本店处理数据的公司：',
  automatedIntro:
    '自动化决策：本店会根据您的活动计算若干评分（在您的导出数据中列出及其影响）。这些评分均不会改变价格。',
};

export const NOTICE_TEXTS: Readonly<Record<NoticeLocale, Texts>> = { en: EN, id: ID, zh: ZH };

export function isNoticeLocale(value: unknown): value is NoticeLocale {
  return typeof value === 'string' && (NOTICE_LOCALES as readonly string[]).includes(value);
}

/** Picks the best supported locale from a tag or an Accept-Language header (`zh-CN`, `id;q=0.8`); English otherwise. */
export function pickLocale(input: string | undefined): NoticeLocale {
  for (const part of (input ?? '').split(',')) {
    const tag = part.split(';')[0]?.trim().toLowerCase().split('-')[0];
    if (tag === 'in') return 'id';
    if (isNoticeLocale(tag)) return tag;
  }
  return 'en';
}

export type Notice = {
  locale: NoticeLocale;
  title: string;
  intro: string;
  purposes: { purpose: string; title: string; description: string }[];
  rights: { right: string; text: string }[];
  retention: { intro: string; items: { dataClass: string; label: string; days: number }[] };
  processors: { intro: string; items: { name: string; purposes: string[]; country: string | null }[] };
  automatedDecisions: string;
};

export function buildNotice(
  locale: NoticeLocale,
  retention: readonly { dataClass: string; ttlDays: number }[],
  processors: readonly { name: string; purposes: string[]; country: string | null }[],
): Notice {
  const t = NOTICE_TEXTS[locale];
  return {
    locale,
    title: t.title,
    intro: t.intro,
    purposes: Object.entries(t.purposes).map(([purpose, p]) => ({ purpose, ...p })),
    rights: t.rights,
    retention: {
      intro: t.retentionIntro,
      items: retention.map((r) => ({
        dataClass: r.dataClass,
        label: t.retention[r.dataClass] ?? r.dataClass,
        days: r.ttlDays,
      })),
    },
    processors: {
      intro: t.processorsIntro,
      items: processors.map((p) => ({ name: p.name, purposes: p.purposes, country: p.country })),
    },
    automatedDecisions: t.automatedIntro,
  };
}
