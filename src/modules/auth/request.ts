/** Small request helpers shared by the guards and the routes. */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { Pseudonymizer } from '../../kernel/crypto.ts';
import type { AppEnv } from '../../kernel/http.ts';

export const SESSION_COOKIE = '__Host-candor_session';
export const CSRF_HEADER = 'X-CSRF-Token';

/** The peer address of the connection. Forwarded headers are not trusted: any client can set them. */
export function clientIp(c: Context<AppEnv>): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Rate limits, alerts and audit entries key on a pseudonym of the IP, never the IP itself. */
export function ipKey(c: Context<AppEnv>, pseudonymize: Pseudonymizer): string {
  return pseudonymize('ip', clientIp(c));
}

export function bearer(c: Context<AppEnv>): string | null {
  const h = c.req.header('authorization');
  if (!h) return null;
  const m = /^Bearer\s+(\S{1,4096})$/i.exec(h.trim());
  return m ? m[1]! : null;
}

export const isSafeMethod = (method: string) => method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
