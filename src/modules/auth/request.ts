/** Small request helpers shared by the guards and the routes. */
import type { Context } from 'hono';
import type { Pseudonymizer } from '../../kernel/crypto.ts';
import type { AppEnv } from '../../kernel/http.ts';

export const SESSION_COOKIE = '__Host-candor_session';
export const CSRF_HEADER = 'X-CSRF-Token';

/**
 * The client's address as the app resolved it for this request: the connection's peer, or, behind a proxy
 * named in config `trustedProxies`, the client its X-Forwarded-For names (kernel/client-address.ts).
 */
export function clientIp(c: Context<AppEnv>): string {
  return c.get('clientIp') ?? 'unknown';
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
