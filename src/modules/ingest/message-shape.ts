/**
 * The shape of one tracking message (Segment spec fields) and of its `context`, read by hand: every
 * ingested event passes here, and a schema library's parse (an issue list, a copied object per level)
 * was the largest single cost of validation on the thread that serves requests. The rules are exactly
 * those of the zod schemas in `message-shape.test.ts`, which checks the two agree on generated messages.
 *
 * Unknown fields are left out of what is returned; an `Id` is a trimmed string of 1–256 characters or a
 * finite number (made a string); a time is a string of at most 64 characters or a finite number.
 */

export type MessageShape = {
  type: string;
  event?: string;
  name?: string | null;
  messageId?: string;
  userId?: string | null;
  anonymousId?: string | null;
  previousId?: string | null;
  timestamp?: string | number;
  originalTimestamp?: string | number;
  sentAt?: string | number;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  context?: unknown;
};

export type ContextShape = {
  userAgent?: string;
  locale?: string;
  timezone?: string;
  sessionId?: string;
  session_id?: string;
  gpc?: boolean;
  page?: { path?: string; url?: string; referrer?: string; title?: string };
  campaign?: { source?: string };
};

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A failed read: `undefined` stands for "absent", so a distinct marker says "invalid". */
const INVALID: unique symbol = Symbol('invalid');
type Read<T> = T | undefined | typeof INVALID;

function text(v: unknown, max: number, min = 0): Read<string> {
  if (v === undefined) return undefined;
  return typeof v === 'string' && v.length >= min && v.length <= max ? v : INVALID;
}

/** A string id: trimmed, then 1–256 characters. */
function trimmedId(v: string): Read<string> {
  const t = v.trim();
  return t.length >= 1 && t.length <= 256 ? t : INVALID;
}

function id(v: unknown): Read<string> {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return trimmedId(v);
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : INVALID;
}

function time(v: unknown): Read<string | number> {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v.length <= 64 ? v : INVALID;
  return typeof v === 'number' && Number.isFinite(v) ? v : INVALID;
}

const nullable =
  <T>(read: (v: unknown) => Read<T>) =>
  (v: unknown): Read<T | null> =>
    v === null ? null : read(v);

const object = (v: unknown): Read<Record<string, unknown>> =>
  v === undefined ? undefined : isPlainObject(v) ? v : INVALID;

const nullableId = nullable(id);
const nullableName = nullable((v) => text(v, 1024));

/** The message's fields, or the names of those that are invalid (in the order of the type above). */
export function readMessage(
  raw: Record<string, unknown>,
): { ok: true; message: MessageShape } | { ok: false; fields: string[] } {
  const fields: string[] = [];
  const out: Record<string, unknown> = {};
  const take = <T>(key: keyof MessageShape, value: Read<T>) => {
    if (value === INVALID) fields.push(key);
    else if (value !== undefined) out[key] = value;
  };
  const type = raw.type;
  if (typeof type === 'string' && type.length >= 1 && type.length <= 64) out.type = type;
  else fields.push('type');
  take('event', text(raw.event, 256, 1));
  take('name', nullableName(raw.name));
  // A message id is text only: a number is not taken for one.
  const messageId = raw.messageId;
  take(
    'messageId',
    messageId === undefined ? undefined : typeof messageId === 'string' ? trimmedId(messageId) : INVALID,
  );
  take('userId', nullableId(raw.userId));
  take('anonymousId', nullableId(raw.anonymousId));
  take('previousId', nullableId(raw.previousId));
  take('timestamp', time(raw.timestamp));
  take('originalTimestamp', time(raw.originalTimestamp));
  take('sentAt', time(raw.sentAt));
  take('properties', object(raw.properties));
  take('traits', object(raw.traits));
  if (raw.context !== undefined) out.context = raw.context;
  return fields.length > 0 ? { ok: false, fields } : { ok: true, message: out as MessageShape };
}

/** A message's or a batch's `context`, or null when any field it has is invalid (or it is no object). */
export function readContext(raw: unknown): ContextShape | null {
  if (!isPlainObject(raw)) return null;
  const out: ContextShape = {};
  const userAgent = text(raw.userAgent, 1024);
  const locale = text(raw.locale, 35);
  const timezone = text(raw.timezone, 64);
  const sessionId = id(raw.sessionId);
  const sessionId2 = id(raw.session_id);
  const gpc = raw.gpc;
  if (
    userAgent === INVALID ||
    locale === INVALID ||
    timezone === INVALID ||
    sessionId === INVALID ||
    sessionId2 === INVALID ||
    (gpc !== undefined && typeof gpc !== 'boolean')
  )
    return null;
  if (userAgent !== undefined) out.userAgent = userAgent;
  if (locale !== undefined) out.locale = locale;
  if (timezone !== undefined) out.timezone = timezone;
  if (sessionId !== undefined) out.sessionId = sessionId;
  if (sessionId2 !== undefined) out.session_id = sessionId2;
  if (gpc !== undefined) out.gpc = gpc;
  if (raw.page !== undefined) {
    const p = raw.page;
    if (!isPlainObject(p)) return null;
    const path = text(p.path, 2048);
    const url = text(p.url, 4096);
    const referrer = text(p.referrer, 4096);
    const title = text(p.title, 1024);
    if (path === INVALID || url === INVALID || referrer === INVALID || title === INVALID) return null;
    const page: NonNullable<ContextShape['page']> = {};
    if (path !== undefined) page.path = path;
    if (url !== undefined) page.url = url;
    if (referrer !== undefined) page.referrer = referrer;
    if (title !== undefined) page.title = title;
    out.page = page;
  }
  if (raw.campaign !== undefined) {
    const c = raw.campaign;
    if (!isPlainObject(c)) return null;
    const source = text(c.source, 256);
    if (source === INVALID) return null;
    out.campaign = source === undefined ? {} : { source };
  }
  return out;
}
