/** The purposes a shopper can consent to (DESIGN.md §5); `necessary` needs no consent and is not asked for. */
export type Purpose =
  'analytics' | 'personalization' | 'marketing_email' | 'marketing_push' | 'advertising' | 'sale';
export type Purposes = Record<Purpose, boolean>;

export type Properties = Record<string, unknown>;

/** A Segment-spec message as `POST /v1/batch` takes it. */
export type Message = {
  type: 'track' | 'page' | 'identify' | 'alias';
  messageId: string;
  anonymousId: string;
  userId?: string;
  event?: string;
  name?: string;
  properties?: Properties;
  traits?: Properties;
  previousId?: string;
  context: Properties;
  timestamp: string;
  sentAt?: string;
};

/** The body of `POST /v1/consent`, without the write key (added when it is sent). */
export type ConsentBody = {
  anonymousId: string;
  userId?: string;
  purposes: Purposes;
  noticeVersion: string;
  method: 'banner' | 'gpc' | 'api';
  locale: string;
  gpc?: boolean;
};

/** Key-value device storage (localStorage in the browser); every call may throw when storage is blocked. */
export type KV = {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
  keys(): string[];
};

/** What became of a request: delivered, worth retrying (network, 408, 429, 5xx), or refused for good (other 4xx). */
export type SendResult = 'ok' | 'retry' | 'drop';

export type Transport = {
  /** POSTs `body` (JSON sent as text/plain, so no CORS preflight) to `path` on the host. */
  send(path: string, body: string): Promise<SendResult>;
  /** Hands `body` to the browser to deliver after the page is gone (sendBeacon); true when it was accepted. */
  beacon(path: string, body: string): boolean;
};

/** Timers, clock and randomness, injected so the logic runs in tests without a browser. */
export type Runtime = {
  now(): number;
  random(): number;
  uuid(): string;
  setTimer(fn: () => void, ms: number): () => void;
  online(): boolean;
};
