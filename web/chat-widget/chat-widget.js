/*
 * Candor chat widget: one script tag on any shop page.
 *
 *   <script src="https://candor.example.com/chat-widget.js" data-write-key="wk_..." async></script>
 *
 * Optional attributes: data-api (Candor's base URL; default: where this script came from), data-title,
 * data-lang (en | id | zh-Hans | zh-Hant; the greeting and labels, default from the page's lang).
 * It talks to POST /v1/chat/messages with the source's public write key (HTTP Basic user, as the SDK does),
 * keeps the conversation id in sessionStorage (closed tab = new conversation), retries with the same
 * clientMessageId so a flaky network never sends a message twice, and renders every text with textContent
 * inside a shadow root: nothing the bot or an agent writes can run as script, and the shop's CSS cannot leak in.
 */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || window.__candorChat) return;
  window.__candorChat = true;
  var writeKey = script.getAttribute('data-write-key') || '';
  var api = (script.getAttribute('data-api') || new URL(script.src, location.href).origin).replace(
    /\/+$/,
    '',
  );
  var pageLang = (script.getAttribute('data-lang') || document.documentElement.lang || 'en').toLowerCase();
  var lang = /^zh-(tw|hk|hant)/.test(pageLang)
    ? 'zh-Hant'
    : /^zh/.test(pageLang)
      ? 'zh-Hans'
      : /^id/.test(pageLang)
        ? 'id'
        : 'en';
  var L = {
    en: {
      open: 'Chat with us',
      title: 'Shop assistant',
      placeholder: 'Type your message…',
      send: 'Send',
      close: 'Close',
      hello: 'Hi! Ask me about your order, shipping, returns or anything else.',
      error: 'Message not sent. Check your connection and try again.',
      wait: 'A person from our team will reply here.',
    },
    id: {
      open: 'Chat dengan kami',
      title: 'Asisten toko',
      placeholder: 'Tulis pesan…',
      send: 'Kirim',
      close: 'Tutup',
      hello: 'Halo! Tanyakan soal pesanan, pengiriman, retur, atau hal lain.',
      error: 'Pesan belum terkirim. Periksa koneksi lalu coba lagi.',
      wait: 'Tim kami akan membalas di sini.',
    },
    'zh-Hans': {
      open: '在线客服',
      title: '购物助手',
      placeholder: '请输入消息…',
      send: '发送',
      close: '关闭',
      hello: '您好！可以问我订单、配送、退货等问题。',
      error: '消息未发送，请检查网络后重试。',
      wait: '我们的客服人员会在这里回复您。',
    },
    'zh-Hant': {
      open: '線上客服',
      title: '購物助手',
      placeholder: '請輸入訊息…',
      send: '傳送',
      close: '關閉',
      hello: '您好！可以問我訂單、配送、退貨等問題。',
      error: '訊息未送出，請檢查網路後再試。',
      wait: '我們的客服人員會在這裡回覆您。',
    },
  }[lang];
  var KEY = 'candor.chat.' + writeKey.slice(0, 12);

  var host = document.createElement('div');
  host.setAttribute('data-candor-chat', '');
  var root = host.attachShadow({ mode: 'open' });
  var style = document.createElement('style');
  style.textContent =
    ':host{all:initial}' +
    '.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:24px;padding:12px 18px;background:#1f3a5f;color:#fff;font:600 14px system-ui,sans-serif;cursor:pointer;box-shadow:0 2px 10px rgba(0,0,0,.25)}' +
    '.panel{position:fixed;right:20px;bottom:20px;z-index:2147483001;width:340px;max-width:calc(100vw - 40px);height:460px;max-height:calc(100vh - 40px);display:flex;flex-direction:column;background:#fff;color:#1b1b1b;border-radius:12px;box-shadow:0 6px 24px rgba(0,0,0,.3);font:14px/1.4 system-ui,sans-serif;overflow:hidden}' +
    '.panel[hidden]{display:none}' +
    'header{display:flex;justify-content:space-between;align-items:center;padding:10px 14px;background:#1f3a5f;color:#fff;font-weight:600}' +
    'header button{background:none;border:0;color:#fff;font-size:18px;cursor:pointer}' +
    '.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px}' +
    '.msg{max-width:85%;padding:8px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}' +
    '.bot{align-self:flex-start;background:#eef1f5}.me{align-self:flex-end;background:#1f3a5f;color:#fff}.note{align-self:center;color:#555;font-size:12px}' +
    '.msg a{color:inherit;display:block;margin-top:4px;font-size:12px}' +
    'form{display:flex;border-top:1px solid #ddd}' +
    'input{flex:1;border:0;padding:12px;font:inherit;outline:none}' +
    'form button{border:0;background:#1f3a5f;color:#fff;padding:0 16px;font:inherit;cursor:pointer}';
  var launcher = el('button', 'launcher', L.open);
  launcher.type = 'button';
  launcher.setAttribute('aria-haspopup', 'dialog');
  var panel = el('section', 'panel');
  panel.hidden = true;
  panel.setAttribute('role', 'dialog');
  panel.setAttribute('aria-label', script.getAttribute('data-title') || L.title);
  var header = el('header', '', script.getAttribute('data-title') || L.title);
  var closeBtn = el('button', '', '×');
  closeBtn.type = 'button';
  closeBtn.setAttribute('aria-label', L.close);
  header.appendChild(closeBtn);
  var log = el('div', 'log');
  log.setAttribute('aria-live', 'polite');
  var form = el('form', '');
  var input = el('input', '');
  input.placeholder = L.placeholder;
  input.maxLength = 2000;
  input.setAttribute('aria-label', L.placeholder);
  var sendBtn = el('button', '', L.send);
  sendBtn.type = 'submit';
  form.appendChild(input);
  form.appendChild(sendBtn);
  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(form);
  root.appendChild(style);
  root.appendChild(launcher);
  root.appendChild(panel);
  (document.body || document.documentElement).appendChild(host);

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text) n.textContent = text;
    return n;
  }
  function add(cls, text, source) {
    var m = el('div', 'msg ' + cls, text);
    // Only http(s) links from the shop's FAQ: a source can never become a javascript: URL.
    if (source && /^https?:\/\//i.test(source.url)) {
      var a = el('a', '', source.title);
      a.href = source.url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      m.appendChild(a);
    }
    log.appendChild(m);
    log.scrollTop = log.scrollHeight;
    return m;
  }
  function storage() {
    try {
      return window.sessionStorage;
    } catch {
      // Storage blocked (privacy settings): the chat still works, only without surviving a reload.
      return null;
    }
  }
  function uid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function post(body, attempt) {
    return fetch(api + '/v1/chat/messages', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Basic ' + btoa(writeKey + ':') },
      body: JSON.stringify(body),
      credentials: 'omit',
    }).then(
      function (res) {
        if (res.ok) return res.json();
        // 429 and 5xx are worth one more try with the same clientMessageId; a 4xx is final.
        if ((res.status === 429 || res.status >= 500) && attempt < 2)
          return new Promise(function (r) {
            setTimeout(r, 800 * (attempt + 1));
          }).then(function () {
            return post(body, attempt + 1);
          });
        return res.json().then(
          function (j) {
            throw new Error((j && j.error && j.error.message) || L.error);
          },
          function () {
            throw new Error(L.error);
          },
        );
      },
      function (e) {
        if (attempt < 2)
          return new Promise(function (r) {
            setTimeout(r, 800 * (attempt + 1));
          }).then(function () {
            return post(body, attempt + 1);
          });
        throw e;
      },
    );
  }

  var greeted = false;
  function open() {
    panel.hidden = false;
    launcher.hidden = true;
    if (!greeted) {
      greeted = true;
      add('bot', L.hello);
    }
    input.focus();
  }
  launcher.addEventListener('click', open);
  closeBtn.addEventListener('click', function () {
    panel.hidden = true;
    launcher.hidden = false;
  });
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = '';
    add('me', text);
    sendBtn.disabled = true;
    var s = storage();
    var body = { text: text, clientMessageId: uid() };
    var conv = s && s.getItem(KEY);
    if (conv) body.conversationId = conv;
    post(body, 0)
      .then(function (r) {
        if (s) s.setItem(KEY, r.state === 'resolved' ? '' : r.conversationId);
        for (var i = 0; i < r.replies.length; i++) add('bot', r.replies[i].text, r.replies[i].source);
        if ((r.state === 'pending' || r.state === 'agent') && r.replies.length === 0) add('note', L.wait);
      })
      .catch(function (e) {
        // An unknown conversation (expired, erased) starts afresh next time.
        if (s && /conversation/i.test(String(e && e.message))) s.removeItem(KEY);
        add('note', (e && e.message) || L.error);
      })
      .then(function () {
        sendBtn.disabled = false;
      });
  });
  window.candorChat = { open: open };
})();
