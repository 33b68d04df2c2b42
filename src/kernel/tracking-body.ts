/**
 * Reading tracking requests the way browsers and Segment libraries send them: JSON as
 * `application/json` or as `text/plain` (sendBeacon cannot set a JSON content type), strict UTF-8,
 * a byte limit, and the write key as HTTP Basic user (analytics.js) or as `writeKey` in the body.
 */
import type { Context } from 'hono';
import { AppError } from './errors.ts';
import type { AppEnv } from './http.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function readTrackingBody(
  c: Context<AppEnv>,
  maxBytes: number,
): Promise<Record<string, unknown>> {
  const type = (c.req.header('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type !== '' && type !== 'application/json' && type !== 'text/plain') {
    throw new AppError(
      'unsupported_media_type',
      'Send the body as JSON with Content-Type application/json (or text/plain, as sendBeacon does).',
    );
  }
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.byteLength > maxBytes) {
    throw new AppError(
      'payload_too_large',
      `The body is larger than ${maxBytes} bytes. Send smaller batches.`,
    );
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new AppError('invalid_json', 'The body is not valid UTF-8. Send UTF-8 encoded JSON.');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('invalid_json', 'The body is not valid JSON. Send one JSON object.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppError('invalid_request', 'The body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

/** The write key from `Authorization: Basic base64(writeKey:)`, or from the body's `writeKey`. */
export function writeKeyOf(c: Context<AppEnv>, body: Record<string, unknown>): string | null {
  const header = c.req.header('authorization');
  if (header !== undefined) {
    const m = /^Basic\s+([A-Za-z0-9+/=_-]{1,1024})$/i.exec(header.trim());
    if (m) {
      const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
      const key = decoded.split(':', 1)[0]!;
      if (key.length > 0) return key;
    }
  }
  const key = Object.hasOwn(body, 'writeKey') ? body.writeKey : undefined;
  return typeof key === 'string' && key.length > 0 && key.length <= 512 ? key : null;
}

export function missingWriteKey(): AppError {
  return new AppError(
    'unauthorized',
    "Send the source's write key as the HTTP Basic user (Authorization: Basic base64(writeKey:)) or as writeKey in the body. Create one with `candor source create`.",
  );
}

export function badWriteKey(): AppError {
  return new AppError(
    'unauthorized',
    'The write key is not valid. Check it, or create a new one with `candor source create`.',
  );
}
