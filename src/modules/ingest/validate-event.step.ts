/**
 * Validation: one raw message (Segment spec `track`/`page`/`screen`/`identify`/`alias`, or a native event
 * whose `type` is in our vocabulary) → a well-typed event with its time settled, or quarantine.
 * Unknown fields are ignored; `properties` and `traits` are kept as received (only own keys are ever read
 * later, through allow-lists, so `__proto__` or `constructor` keys never reach an object's prototype).
 */
import { eventTypeOf, EVENT_TYPES, type EventType } from './event-types.ts';
import { isPlainObject, readContext, readMessage, type ContextShape } from './message-shape.ts';
import { ok, quarantine, type StepResult } from './step.ts';

export const MAX_EVENT_BYTES = 32 * 1024;
export const MAX_DEPTH = 12;
/** Events older than this are quarantined: a queue that waited longer is not a plausible device queue. */
export const MAX_EVENT_AGE_MS = 30 * 24 * 3600 * 1000;

export type ValidEvent = {
  type: EventType;
  messageId: string | null;
  userId: string | null;
  anonymousId: string | null;
  /** alias: the id being merged into `userId`. */
  previousId: string | null;
  /** Event time, epoch ms, corrected for the device's clock skew and never in the future. */
  ts: number;
  receivedAt: number;
  properties: Readonly<Record<string, unknown>>;
  traits: Readonly<Record<string, unknown>>;
  context: {
    userAgent: string | null;
    path: string | null;
    url: string | null;
    referrer: string | null;
    title: string | null;
    locale: string | null;
    /** IANA zone the device reports (Segment `context.timezone`); the profile keeps it for quiet hours. */
    timeZone: string | null;
    utmSource: string | null;
    sessionId: string | null;
    gpc: boolean;
  };
};

export type ValidateOptions = {
  receivedAt: number;
  /** The batch envelope's `sentAt`, used for clock-skew correction when the event has none. */
  sentAt?: unknown;
  /** Envelope-level context (`/v1/batch` allows one for every event). */
  context?: unknown;
};

/**
 * One walk over a message for two checks: whether it nests deeper than `max`, and an upper bound of its
 * size as UTF-8 JSON (`sizeBound`). Recursive, but the recursion stops one level past `max`, so hostile
 * nesting cannot exhaust the stack; no allocation per node (this runs for every ingested event). The bound
 * spares the exact size, a JSON.stringify of every event, unless an event comes near the limit: a string
 * costs at most 6 bytes per UTF-16 unit (`\uXXXX`) plus its quotes, a number at most 32, and a value
 * JSON.stringify would turn into something else (`toJSON`, a BigInt) makes the bound unusable.
 */
let sizeBound = 0;
let boundUsable = true;

function walk(v: unknown, depth: number, max: number): boolean {
  switch (typeof v) {
    case 'string':
      sizeBound += 2 + 6 * v.length;
      return false;
    case 'number':
      sizeBound += 32;
      return false;
    case 'boolean':
      sizeBound += 5;
      return false;
    case 'object':
      break;
    default:
      // undefined, functions, symbols (dropped or refused by JSON.stringify), BigInt (refused).
      boundUsable = false;
      return false;
  }
  if (v === null) {
    sizeBound += 4;
    return false;
  }
  if (depth > max) return true;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') boundUsable = false;
  sizeBound += 2;
  if (Array.isArray(v)) {
    for (const child of v) {
      sizeBound += 1;
      if (walk(child, depth + 1, max)) return true;
    }
    return false;
  }
  for (const key in v) {
    if (!Object.hasOwn(v, key)) continue;
    sizeBound += 4 + 6 * key.length;
    if (walk((v as Record<string, unknown>)[key], depth + 1, max)) return true;
  }
  return false;
}

/**
 * Whether the value, as UTF-8 JSON, is larger than `maxBytes`; null when it nests deeper than `maxDepth`
 * (counting the value itself as level 1; it is then not measured).
 */
export function jsonLargerThan(value: unknown, maxBytes: number, maxDepth: number): boolean | null {
  sizeBound = 0;
  boundUsable = true;
  if (walk(value, 1, maxDepth)) return null;
  if (boundUsable && sizeBound <= maxBytes) return false;
  return Buffer.byteLength(JSON.stringify(value) ?? '') > maxBytes;
}

function parseTime(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

function pathOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).pathname;
  } catch {
    return null;
  }
}

function typeOf(kind: string, event: string | undefined): EventType | 'unknown' | 'invalid' {
  switch (kind) {
    case 'track':
      if (event === undefined) return 'invalid';
      return eventTypeOf(event) ?? 'unknown';
    case 'page':
    case 'screen':
      return 'page_view';
    case 'identify':
      return 'identify';
    case 'alias':
      return 'alias';
    default:
      return (EVENT_TYPES as readonly string[]).includes(kind) ? (kind as EventType) : 'unknown';
  }
}

// Every message of a /v1/batch shares the envelope's context: it is read once per request, not per message.
const NO_CONTEXT: ContextShape = {};
const envelopes = new WeakMap<object, ContextShape>();
function envelopeContext(raw: unknown): ContextShape {
  if (typeof raw !== 'object' || raw === null) return NO_CONTEXT;
  let read = envelopes.get(raw);
  if (read === undefined) {
    // An invalid envelope context is ignored: each event can still bring its own.
    read = readContext(raw) ?? NO_CONTEXT;
    envelopes.set(raw, read);
  }
  return read;
}

export function validateEvent(raw: unknown, options: ValidateOptions): StepResult<ValidEvent> {
  if (!isPlainObject(raw)) return quarantine('invalid_event', 'an event must be a JSON object');
  const tooLarge = jsonLargerThan(raw, MAX_EVENT_BYTES, MAX_DEPTH);
  if (tooLarge === null) return quarantine('too_deep', `nesting deeper than ${MAX_DEPTH} levels`);
  if (tooLarge) return quarantine('event_too_large', `larger than ${MAX_EVENT_BYTES} bytes`);

  const parsed = readMessage(raw);
  if (!parsed.ok)
    return quarantine('invalid_event', `invalid fields: ${parsed.fields.slice(0, 5).join(', ')}`);
  const m = parsed.message;
  const type = typeOf(m.type, m.event);
  if (type === 'invalid') return quarantine('invalid_event', 'a track call needs an `event` name');
  if (type === 'unknown')
    return quarantine('unknown_event', 'not a Segment e-commerce spec name or a Candor event type');

  // Event context wins over the batch envelope's, field by field.
  const envelope = envelopeContext(options.context);
  const own = m.context === undefined || m.context === null ? NO_CONTEXT : readContext(m.context);
  if (own === null) return quarantine('invalid_event', 'invalid fields: context');
  const ctx = own === NO_CONTEXT ? envelope : { ...envelope, ...own };
  const page = own.page === undefined ? (envelope.page ?? {}) : { ...envelope.page, ...own.page };

  const userId = m.userId ?? null;
  const anonymousId = m.anonymousId ?? null;
  const previousId = m.previousId ?? null;
  if (userId === null && anonymousId === null)
    return quarantine('missing_identity', 'send userId or anonymousId');
  if (type === 'alias' && (previousId === null || userId === null)) {
    return quarantine('missing_identity', 'alias needs previousId and userId');
  }

  const receivedAt = options.receivedAt;
  const rawTime = m.timestamp ?? m.originalTimestamp;
  let ts = receivedAt;
  if (rawTime !== undefined) {
    const t = parseTime(rawTime);
    if (t === null)
      return quarantine('invalid_timestamp', 'timestamp must be an ISO 8601 string or epoch ms');
    ts = t;
    // The device clock may be wrong: Segment's correction, event time relative to when the device sent it.
    const sent = parseTime(m.sentAt ?? options.sentAt);
    if (sent !== null) ts = receivedAt - (sent - t);
  }
  // The future is clamped to now: judged by the consent state at receipt, never by a state not yet decided.
  if (ts > receivedAt) ts = receivedAt;
  if (ts < receivedAt - MAX_EVENT_AGE_MS) return quarantine('timestamp_too_old', 'older than 30 days');

  const properties = m.properties ?? {};
  const url = str(page.url);
  return ok({
    type,
    messageId: m.messageId ?? null,
    userId,
    anonymousId,
    previousId,
    ts,
    receivedAt,
    properties,
    traits: m.traits ?? {},
    context: {
      userAgent: str(ctx.userAgent),
      path: str(page.path) ?? str(properties.path) ?? pathOf(url),
      url,
      referrer: str(page.referrer) ?? str(properties.referrer),
      title: str(page.title) ?? str(properties.title),
      locale: str(ctx.locale),
      timeZone: str(ctx.timezone),
      utmSource: str(ctx.campaign?.source),
      sessionId: ctx.sessionId ?? ctx.session_id ?? null,
      gpc: ctx.gpc === true,
    },
  });
}
