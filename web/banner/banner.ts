/**
 * The consent banner: a tiny separate script for shop pages. It asks before anything is collected, offers
 * "Accept all" and "Reject all" as equal buttons (same size, same style, same row) plus "Choose", explains
 * each purpose in plain language (en, id, zh), shows that Global Privacy Control is honoured, and asks again
 * when the notice version changes. The decision goes to the ledger through the SDK (`candor.consent.set`),
 * which sends nothing before a purpose is granted — so rejecting keeps the network quiet.
 *
 * Styles are set through the CSSOM (no <style> element, no inline style attribute parsing), so the shop's
 * CSP needs nothing extra.
 */
type Purpose =
  'analytics' | 'personalization' | 'marketing_email' | 'marketing_push' | 'advertising' | 'sale';
type Choice = Record<Purpose, boolean>;
type Lang = 'en' | 'id' | 'zh';

type Texts = {
  title: string;
  text: string;
  accept: string;
  reject: string;
  choose: string;
  save: string;
  gpc: string;
  purposes: Record<Purpose, [string, string]>;
};

const TEXTS: Record<Lang, Texts> = {
  en: {
    title: 'Your privacy choices',
    text: 'We would like to use your data for the purposes below. Nothing is collected until you choose, and you can change your mind at any time in the privacy centre.',
    accept: 'Accept all',
    reject: 'Reject all',
    choose: 'Choose',
    save: 'Save choices',
    gpc: 'Your browser sends Global Privacy Control: advertising and sale stay off.',
    purposes: {
      analytics: ['Statistics', 'Counts visits and clicks so the shop learns what works. No names.'],
      personalization: [
        'Personalised shopping',
        'Suggests products from what you view and buy. Prices never change.',
      ],
      marketing_email: ['Marketing emails', 'Offers and news by email.'],
      marketing_push: ['Push notifications', 'Offers and news as notifications.'],
      advertising: [
        'Advertising partners',
        'Shares your activity with ad partners to show you ads elsewhere.',
      ],
      sale: ['Sale of data', 'Lets the shop sell or share your data for value.'],
    },
  },
  id: {
    title: 'Pilihan privasi Anda',
    text: 'Kami ingin memakai data Anda untuk tujuan di bawah ini. Tidak ada yang dikumpulkan sebelum Anda memilih, dan Anda dapat berubah pikiran kapan saja di pusat privasi.',
    accept: 'Terima semua',
    reject: 'Tolak semua',
    choose: 'Pilih',
    save: 'Simpan pilihan',
    gpc: 'Browser Anda mengirim Global Privacy Control: iklan dan penjualan tetap nonaktif.',
    purposes: {
      analytics: ['Statistik', 'Menghitung kunjungan dan klik agar toko tahu apa yang berhasil. Tanpa nama.'],
      personalization: [
        'Belanja yang dipersonalisasi',
        'Menyarankan produk dari yang Anda lihat dan beli. Harga tidak berubah.',
      ],
      marketing_email: ['Email pemasaran', 'Penawaran dan berita lewat email.'],
      marketing_push: ['Notifikasi push', 'Penawaran dan berita sebagai notifikasi.'],
      advertising: [
        'Mitra iklan',
        'Membagikan aktivitas Anda kepada mitra iklan untuk iklan di tempat lain.',
      ],
      sale: ['Penjualan data', 'Mengizinkan toko menjual atau membagikan data Anda.'],
    },
  },
  zh: {
    title: '您的隐私选择',
    text: '我们希望将您的数据用于以下目的。在您做出选择之前不会收集任何数据，您可以随时在隐私中心改变主意。',
    accept: '全部接受',
    reject: '全部拒绝',
    choose: '自行选择',
    save: '保存选择',
    gpc: '您的浏览器发送了全球隐私控制信号：广告和出售保持关闭。',
    purposes: {
      analytics: ['统计', '统计访问和点击，帮助商店了解哪些有效。不含姓名。'],
      personalization: ['个性化购物', '根据您浏览和购买的内容推荐商品。价格绝不会因此改变。'],
      marketing_email: ['营销邮件', '通过电子邮件发送优惠和新闻。'],
      marketing_push: ['推送通知', '以通知形式发送优惠和新闻。'],
      advertising: ['广告合作伙伴', '与广告合作伙伴分享您的活动，以便在其他地方展示广告。'],
      sale: ['出售数据', '允许商店出售或分享您的数据以换取价值。'],
    },
  },
};

const PURPOSES: Purpose[] = [
  'analytics',
  'personalization',
  'marketing_email',
  'marketing_push',
  'advertising',
  'sale',
];
const GPC_OFF: Purpose[] = ['advertising', 'sale'];
/** Remembers only which notice version was answered (strictly necessary: so the banner does not ask again). */
const SEEN_KEY = 'candor.banner';

type Sdk = {
  consent: { set(choice: Partial<Choice>, method?: 'banner' | 'gpc' | 'api'): void; get(): Choice | null };
};
export type BannerOptions = { noticeVersion: string; locale?: string; onDecision?: (choice: Choice) => void };

function lang(tag: string | undefined): Lang {
  const t = (tag || navigator.language || 'en').toLowerCase();
  return t.startsWith('zh') ? 'zh' : t.startsWith('id') ? 'id' : 'en';
}

function css(el: HTMLElement, styles: Partial<CSSStyleDeclaration>): HTMLElement {
  Object.assign(el.style, styles);
  return el;
}

function h<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (text !== undefined) el.textContent = text;
  return el;
}

function seenVersion(): string | null {
  try {
    return localStorage.getItem(SEEN_KEY);
  } catch {
    return null;
  }
}

function remember(version: string): void {
  try {
    localStorage.setItem(SEEN_KEY, version);
  } catch {
    // Storage blocked: the banner asks again next time, which is the safe side.
  }
}

const button = (label: string): HTMLButtonElement => {
  const b = h('button', label);
  b.type = 'button';
  // Equal weight: every choice button looks the same.
  css(b, {
    font: 'inherit',
    padding: '0.55em 1.1em',
    minWidth: '9em',
    border: '2px solid #1b1f24',
    borderRadius: '6px',
    background: '#ffffff',
    color: '#1b1f24',
    cursor: 'pointer',
  });
  return b;
};

/** Shows the banner unless this notice version was already answered. Returns true when it was shown. */
export function show(options: BannerOptions): boolean {
  const sdk = (window as unknown as { candor?: Sdk }).candor;
  if (seenVersion() === options.noticeVersion) return false;
  const tx = TEXTS[lang(options.locale)];
  const gpc = (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl === true;

  const root = css(h('div'), {
    position: 'fixed',
    left: '0',
    right: '0',
    bottom: '0',
    zIndex: '2147483647',
    background: '#ffffff',
    color: '#1b1f24',
    borderTop: '2px solid #1b1f24',
    padding: '1em 1.25em',
    font: '15px/1.45 system-ui, sans-serif',
    maxHeight: '80vh',
    overflowY: 'auto',
  });
  root.setAttribute('role', 'dialog');
  root.setAttribute('aria-modal', 'false');
  root.setAttribute('aria-labelledby', 'candor-banner-title');
  root.setAttribute('data-candor-banner', '');
  const title = css(h('h2', tx.title), { margin: '0 0 0.4em', fontSize: '1.1em' });
  title.id = 'candor-banner-title';
  root.append(title, css(h('p', tx.text), { margin: '0 0 0.6em' }));
  if (gpc) root.append(css(h('p', tx.gpc), { margin: '0 0 0.6em', fontWeight: '600' }));

  const list = css(h('ul'), { listStyle: 'none', padding: '0', margin: '0 0 0.8em', display: 'none' });
  const boxes = new Map<Purpose, HTMLInputElement>();
  for (const p of PURPOSES) {
    const li = css(h('li'), { margin: '0.3em 0' });
    const label = css(h('label'), { display: 'flex', gap: '0.5em', alignItems: 'flex-start' });
    const box = h('input');
    box.type = 'checkbox';
    box.name = p;
    if (gpc && GPC_OFF.includes(p)) box.disabled = true;
    boxes.set(p, box);
    const [name, help] = tx.purposes[p];
    const text = h('span');
    text.append(css(h('strong', name), { display: 'block' }), h('span', help));
    label.append(box, text);
    li.append(label);
    list.append(li);
  }
  root.append(list);

  const row = css(h('div'), { display: 'flex', flexWrap: 'wrap', gap: '0.6em' });
  const accept = button(tx.accept);
  const reject = button(tx.reject);
  const choose = button(tx.choose);
  row.append(accept, reject, choose);
  root.append(row);

  const decide = (choice: Choice) => {
    if (gpc) for (const p of GPC_OFF) choice[p] = false;
    sdk?.consent.set(choice, 'banner');
    remember(options.noticeVersion);
    root.remove();
    options.onDecision?.(choice);
  };
  const all = (value: boolean) => Object.fromEntries(PURPOSES.map((p) => [p, value])) as Choice;
  accept.addEventListener('click', () => decide(all(true)));
  reject.addEventListener('click', () => decide(all(false)));
  choose.addEventListener('click', () => {
    if (list.style.display === 'none') {
      list.style.display = 'block';
      choose.textContent = tx.save;
      boxes.get('analytics')?.focus();
    } else {
      decide(Object.fromEntries(PURPOSES.map((p) => [p, boxes.get(p)!.checked])) as Choice);
    }
  });

  document.body.append(root);
  return true;
}

// The script-tag form: `<script src="/banner.js" data-notice-version="3" data-locale="id">` after the SDK.
const tag = document.currentScript as HTMLScriptElement | null;
(window as unknown as { candorBanner: { show: typeof show } }).candorBanner = { show };
if (tag?.dataset.noticeVersion) {
  const opts: BannerOptions = {
    noticeVersion: tag.dataset.noticeVersion,
    ...(tag.dataset.locale ? { locale: tag.dataset.locale } : {}),
  };
  if (document.body) show(opts);
  else document.addEventListener('DOMContentLoaded', () => show(opts), { once: true });
}
