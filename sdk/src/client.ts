import { backoffDelay } from './backoff.ts';
import { createQueue, type Queue } from './queue.ts';
import type { ConsentBody, KV, Message, Properties, Purpose, Purposes, Runtime, Transport } from './types.ts';

export const VERSION = '0.1.0';
export const PURPOSES: readonly Purpose[] = [
  'analytics',
  'personalization',
  'marketing_email',
  'marketing_push',
  'advertising',
  'sale',
];
export const STATE_KEY = 'candor.s';

export type InitOptions = {
  writeKey: string;
  /** Where Candor runs, e.g. `https://candor.example-shop.com`. */
  host: string;
  /** The version of the consent notice the shopper was shown; recorded with every decision. */
  noticeVersion: string;
  locale?: string;
  /** Send as soon as this many events wait (default 20). */
  flushAt?: number;
  /** Otherwise send this long after the first waiting event (default 5000 ms). */
  flushIntervalMs?: number;
  /** Send `page_view` on load and `page_leave` on exit (default true). */
  autoPage?: boolean;
};

/** Everything the client needs from its surroundings; the browser binding provides the real ones. */
export type ClientEnv = Runtime & {
  kv: KV;
  transport(host: string): Transport;
  /** `navigator.globalPrivacyControl`. */
  gpc(): boolean;
  /** Context for every message: page, user agent, locale. */
  context(): Properties;
  /** Called when the automatic page_view went out, so page_leave measures from there. */
  pageViewed?(): void;
};

export type ConsentChoice = Partial<Purposes>;
type Method = ConsentBody['method'];

/** What is kept on the device, and only once some purpose is granted: ids and the decision. */
type DeviceState = { a?: string; u?: string; p?: Purposes };

export type Product = Properties & { product_id: string };

export type Client = ReturnType<typeof createClient>;

/**
 * The tracker. Before the shopper grants a purpose nothing is written to the device, no id exists and
 * nothing is sent; events need `analytics` (identify also goes with `personalization`). Withdrawal wipes the
 * queue and every `candor.*` key at once, then tells the server.
 */
export function createClient(env: ClientEnv) {
  let options: Required<Omit<InitOptions, 'locale'>> & { locale?: string | undefined };
  let transport: Transport | undefined;
  let queue: Queue | undefined;
  let state: DeviceState = {};
  let paged = false;
  let withdrawal: string | undefined;
  let withdrawalAttempt = 0;

  const granted = (p = state.p): boolean => !!p && PURPOSES.some((k) => p[k]);

  function wipe(): void {
    try {
      for (const key of env.kv.keys()) if (key.startsWith('candor.')) env.kv.remove(key);
    } catch {
      // Storage blocked: then nothing could have been written either.
    }
  }

  function persist(): void {
    try {
      if (granted()) env.kv.set(STATE_KEY, JSON.stringify(state));
    } catch {
      // Storage full or blocked: the tracker keeps working for this page.
    }
  }

  function ensureQueue(): Queue | undefined {
    if (!queue && transport && granted()) {
      queue = createQueue(env.kv, transport, env, {
        writeKey: options.writeKey,
        flushAt: options.flushAt,
        flushIntervalMs: options.flushIntervalMs,
      });
    }
    return queue;
  }

  function emit(type: Message['type'], fields: Partial<Message>): string | undefined {
    const p = state.p;
    const allowed = type === 'identify' ? p?.analytics || p?.personalization : p?.analytics;
    const q = ensureQueue();
    if (!allowed || !state.a || !q) return undefined;
    const message: Message = {
      type,
      messageId: env.uuid(),
      anonymousId: state.a,
      ...(state.u ? { userId: state.u } : {}),
      ...fields,
      context: { ...env.context(), ...(options.locale ? { locale: options.locale } : {}) },
      timestamp: new Date(env.now()).toISOString(),
    };
    q.push({ i: message.messageId, b: message });
    return message.messageId;
  }

  function page(name?: string, properties: Properties = {}): string | undefined {
    const id = emit('page', { ...(name ? { name } : {}), properties });
    if (id && !paged) {
      paged = true;
      env.pageViewed?.();
    }
    return id;
  }

  function autoPage(): void {
    if (options.autoPage && !paged && state.p?.analytics) page();
  }

  function consentBody(purposes: Purposes, method: Method): ConsentBody | undefined {
    if (!state.a) return undefined;
    const locale = env.context().locale;
    return {
      anonymousId: state.a,
      ...(state.u ? { userId: state.u } : {}),
      purposes,
      noticeVersion: options.noticeVersion,
      method,
      locale: options.locale ?? (typeof locale === 'string' ? locale : 'en'),
      gpc: env.gpc(),
    };
  }

  function sendWithdrawal(): void {
    const body = withdrawal;
    if (!body || !transport || !env.online()) return;
    void transport.send('/v1/consent', body).then((result) => {
      if (result !== 'retry') {
        if (withdrawal === body) withdrawal = undefined;
      } else env.setTimer(sendWithdrawal, backoffDelay(withdrawalAttempt++, env.random()));
    });
  }

  function withdraw(method: Method = 'banner'): void {
    const none = Object.fromEntries(PURPOSES.map((k) => [k, false])) as Purposes;
    const body = options ? consentBody(none, method) : undefined;
    queue?.clear();
    queue = undefined;
    wipe();
    // The user id is the shop's knowledge, not device storage; the anonymous id goes with the consent.
    state = { ...(state.u ? { u: state.u } : {}), p: none };
    if (body) {
      withdrawal = JSON.stringify({ ...body, writeKey: options.writeKey });
      withdrawalAttempt = 0;
      sendWithdrawal();
    }
  }

  function setConsent(choice: ConsentChoice, method: Method = 'banner'): void {
    if (!options) throw new Error('candor: call candor.init({ writeKey, host, noticeVersion }) first');
    const purposes = Object.fromEntries(PURPOSES.map((k) => [k, choice[k] === true])) as Purposes;
    if (!granted(purposes)) {
      withdraw(method);
      return;
    }
    state.a ??= env.uuid();
    state.p = purposes;
    persist();
    if (!purposes.analytics) {
      // Events are no longer allowed: what waits for `analytics` must not be sent later.
      queue?.clear();
    }
    ensureQueue()?.push({ i: env.uuid(), c: 1, b: consentBody(purposes, method)! });
    autoPage();
  }

  return {
    VERSION,
    init: (init: InitOptions): void => {
      if (options) return;
      options = {
        flushAt: 20,
        flushIntervalMs: 5000,
        autoPage: true,
        ...init,
        host: init.host.replace(/\/+$/, ''),
      };
      transport = env.transport(options.host);
      try {
        const saved: unknown = JSON.parse(env.kv.get(STATE_KEY) ?? '{}');
        if (saved && typeof saved === 'object') state = saved;
      } catch {
        state = {};
      }
      void ensureQueue()?.flush();
      autoPage();
    },
    page,
    track: (event: string, properties: Properties = {}): string | undefined =>
      emit('track', { event, properties }),
    identify(userId: string, traits: Properties = {}): string | undefined {
      state.u = userId;
      persist();
      return emit('identify', { userId, traits });
    },
    /** Logout: forget the user id and start a new anonymous id, carrying the device's consent over to it. */
    reset(): void {
      delete state.u;
      if (!state.a || !state.p) return;
      state.a = env.uuid();
      persist();
      queue?.push({ i: env.uuid(), c: 1, b: consentBody(state.p, 'api')! });
    },
    /** Sends what waits now (normally it goes in batches on its own). */
    flush: (): Promise<void> => queue?.flush() ?? Promise.resolve(),
    productViewed: (product: Product): string | undefined =>
      emit('track', { event: 'product_view', properties: product }),
    searched: (query: string, resultsCount: number) =>
      emit('track', { event: 'search', properties: { query, results_count: resultsCount } }),
    searchClicked: (query: string, productId: string, position: number) =>
      emit('track', { event: 'search_click', properties: { query, product_id: productId, position } }),
    addedToCart: (product: Product, quantity = 1) =>
      emit('track', { event: 'add_to_cart', properties: { ...product, quantity } }),
    removedFromCart: (product: Product, quantity = 1) =>
      emit('track', { event: 'remove_from_cart', properties: { ...product, quantity } }),
    checkoutStarted: (properties: Properties = {}) =>
      emit('track', { event: 'checkout_started', properties }),
    orderCompleted: (
      order: Properties & { order_id: string; revenue: number; currency: string; products?: Product[] },
    ) => emit('track', { event: 'order_completed', properties: order }),
    consent: {
      set: setConsent,
      /** The decision on this device, or null when the shopper has not decided (yet). */
      get: (): Purposes | null => (state.p ? { ...state.p } : null),
      withdraw,
    },
    /** Hooks for the browser binding. */
    _: {
      online: (): void => {
        queue?.resume();
        sendWithdrawal();
      },
      hide: (): void => {
        void queue?.flush();
      },
      unload: (): void => {
        queue?.unload();
        if (withdrawal && transport?.beacon('/v1/consent', withdrawal)) withdrawal = undefined;
      },
    },
  };
}
