import { createClient, type Client } from './client.ts';
import { createEngagement } from './engagement.ts';
import type { KV, SendResult, Transport } from './types.ts';

function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

const kv: KV = {
  get: (key) => storage()?.getItem(key) ?? null,
  set: (key, value) => storage()?.setItem(key, value),
  remove: (key) => storage()?.removeItem(key),
  keys: () => Object.keys(storage() ?? {}),
};

function uuid(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function transport(host: string): Transport {
  return {
    // text/plain keeps the request "simple" (no CORS preflight) and lets the same body go by beacon.
    send: (path, body): Promise<SendResult> =>
      fetch(host + path, {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'text/plain' },
        credentials: 'omit',
        keepalive: body.length < 60_000,
      }).then(
        (r) => (r.ok ? 'ok' : r.status === 408 || r.status === 429 || r.status >= 500 ? 'retry' : 'drop'),
        () => 'retry',
      ),
    beacon: (path, body) => {
      try {
        return navigator.sendBeacon(host + path, new Blob([body], { type: 'text/plain' }));
      } catch {
        return false;
      }
    },
  };
}

const visible = (): boolean => document.visibilityState === 'visible' && document.hasFocus();

function scrollDepth(): number {
  const el = document.documentElement;
  const height = Math.max(el.scrollHeight, document.body?.scrollHeight ?? 0);
  return height ? ((window.scrollY + window.innerHeight) / height) * 100 : 100;
}

/** The tracker bound to the page: localStorage, fetch/sendBeacon, and the page's lifecycle events. */
export function createBrowserClient(): Client {
  const engagement = createEngagement(() => Date.now());
  let left = false;
  const client = createClient({
    kv,
    transport,
    now: () => Date.now(),
    random: Math.random,
    uuid,
    setTimer: (fn, ms) => {
      const id = setTimeout(fn, ms);
      return () => clearTimeout(id);
    },
    online: () => navigator.onLine !== false,
    gpc: () => (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl === true,
    context: () => ({
      page: {
        path: location.pathname,
        url: location.href,
        search: location.search,
        title: document.title,
        referrer: document.referrer,
      },
      userAgent: navigator.userAgent,
      locale: navigator.language,
      library: { name: 'candor-sdk', version: client.VERSION },
    }),
    pageViewed: () => {
      engagement.start(visible());
      engagement.scrolled(scrollDepth());
    },
  });

  const init = client.init;
  client.init = (options) => {
    init(options);
    const on = (target: EventTarget, type: string, fn: () => void): void =>
      target.addEventListener(type, fn, { capture: true, passive: true });
    const activity = (): void => engagement.active(visible());
    on(window, 'focus', activity);
    on(window, 'blur', activity);
    on(window, 'scroll', () => engagement.scrolled(scrollDepth()));
    on(window, 'online', client._.online);
    on(document, 'visibilitychange', () => {
      activity();
      if (document.visibilityState === 'hidden') client._.hide();
    });
    on(window, 'pageshow', () => {
      left = false;
      client._.online();
    });
    on(window, 'pagehide', () => {
      const figures = engagement.result();
      if (figures && !left && options.autoPage !== false) {
        left = true;
        client.track('page_leave', figures);
      }
      client._.unload();
    });
  };
  return client;
}
