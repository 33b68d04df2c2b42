/**
 * The address of the client behind a request. Directly connected, it is the connection's peer. Behind a
 * reverse proxy (the deployment in docs/deploy.md) every connection comes from the proxy, and the client is
 * in the X-Forwarded-For header the proxy appends to. Anyone can send that header, so it is read only when
 * the peer is a proxy the operator named (config `trustedProxies`), and only from the right: each entry
 * read was appended by a trusted hop, and the first entry that is not itself a trusted proxy is the
 * client. Rate limits, abuse alerts and sign-in limits key on this address (pseudonymised), so without it
 * every shopper and every staff member behind a proxy would share one bucket.
 *
 * A proxy that writes the standard `Forwarded` header (RFC 7239) instead is read the same way, its `for=`
 * values taken as the hops, when config `forwardedHeader` says so. Only one header is ever read: were both,
 * a client could write the one its proxy leaves alone.
 */
import { BlockList, isIP } from 'node:net';

/** Named ranges a trusted-proxy entry may use besides an address or CIDR. */
const NAMED_RANGES: Record<string, readonly string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** More hops than any real proxy chain; a longer header is read only this far from the right. */
const MAX_HOPS = 16;

/** `::ffff:192.0.2.1` (an IPv4 client on a dual-stack socket) as `192.0.2.1`; other addresses as given. */
export function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** Why a trusted-proxy entry cannot be used, or null when it can. */
export function trustedProxyProblem(entry: string): string | null {
  if (NAMED_RANGES[entry] !== undefined) return null;
  const [address, prefix, extra] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined)
    return `"${entry}" is not an IP address, a CIDR range (10.0.0.0/8) or one of ${Object.keys(NAMED_RANGES).join(', ')}`;
  if (prefix !== undefined) {
    const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (!(bits >= 0 && bits <= (family === 4 ? 32 : 128)))
      return `"${entry}" has a prefix length outside 0–${family === 4 ? 32 : 128}`;
  }
  return null;
}

/** One entry of X-Forwarded-For as an address: brackets and an IPv4 port (`192.0.2.1:5123`) removed. */
function forwardedAddress(entry: string): string | null {
  let s = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1]!;
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(':'));
  return isIP(s) === 0 ? null : plainAddress(s);
}

/** The headers a proxy may name the client in; one is configured (config `forwardedHeader`). */
export const FORWARDED_HEADERS = ['x-forwarded-for', 'forwarded'] as const;
export type ForwardedHeader = (typeof FORWARDED_HEADERS)[number];

/**
 * The `for=` value of each element of a `Forwarded` header, in order (RFC 7239 §4: elements separated by
 * commas, pairs by semicolons, a value a token or a quoted string). An element without `for` gives "",
 * which names no address, like `for=unknown`.
 */
export function forwardedForValues(header: string): string[] {
  const out: string[] = [];
  let value = '';
  let pair = '';
  let quoted = false;
  const endPair = () => {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === 'for') value = pair.slice(eq + 1).trim();
    pair = '';
  };
  for (let i = 0; i < header.length; i++) {
    const ch = header[i]!;
    if (quoted) {
      if (ch === '\\' && i + 1 < header.length) pair += header[++i];
      else if (ch === '"') quoted = false;
      else pair += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ';') endPair();
    else if (ch === ',') {
      endPair();
      out.push(value);
      value = '';
    } else pair += ch;
  }
  endPair();
  out.push(value);
  return out;
}

export type ClientAddressResolver = (peer: string, forwarded: string | undefined) => string;

/**
 * Resolves from the peer and the value of `header` (X-Forwarded-For unless the proxies write `Forwarded`).
 * Throws on an entry `trustedProxyProblem` refuses; config validation reports those at boot.
 */
export function createClientAddressResolver(
  trustedProxies: readonly string[],
  header: ForwardedHeader = 'x-forwarded-for',
): ClientAddressResolver {
  if (trustedProxies.length === 0) return (peer) => plainAddress(peer);
  const list = new BlockList();
  for (const entry of trustedProxies.flatMap((e) => NAMED_RANGES[e] ?? [e])) {
    const problem = trustedProxyProblem(entry);
    if (problem !== null) throw new Error(`trustedProxies: ${problem}`);
    const [address, prefix] = entry.split('/') as [string, string | undefined];
    const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  const trusted = (address: string) => list.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');

  return (peer, forwarded) => {
    let client = plainAddress(peer);
    if (forwarded === undefined || isIP(client) === 0 || !trusted(client)) return client;
    const hops = header === 'forwarded' ? forwardedForValues(forwarded) : forwarded.split(',');
    for (let i = hops.length - 1; i >= Math.max(0, hops.length - MAX_HOPS); i--) {
      const hop = forwardedAddress(hops[i]!);
      // Not an address ("unknown", a proxy's obfuscated name): the trusted hop that wrote it is the
      // nearest thing to the client that can be named, and a made-up value must not pick a fresh bucket.
      if (hop === null) return client;
      client = hop;
      if (!trusted(hop)) return client;
    }
    return client;
  };
}
