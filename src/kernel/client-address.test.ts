import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createClientAddressResolver,
  forwardedForValues,
  plainAddress,
  trustedProxyProblem,
} from './client-address.ts';

describe('client address', () => {
  it('is the peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    const resolve = createClientAddressResolver([]);
    expect(resolve('203.0.113.9', '198.51.100.1')).toBe('203.0.113.9');
    expect(resolve('::ffff:203.0.113.9', undefined)).toBe('203.0.113.9');
  });

  it('reads X-Forwarded-For from the right, through trusted hops only', () => {
    const resolve = createClientAddressResolver(['10.0.0.5', '172.16.0.0/12']);
    // One proxy: the entry it appended is the client.
    expect(resolve('10.0.0.5', '198.51.100.7')).toBe('198.51.100.7');
    // A client that sends its own header cannot pick its address: only what the proxy appended counts.
    expect(resolve('10.0.0.5', '1.2.3.4, 198.51.100.7')).toBe('198.51.100.7');
    // Two proxies: the load balancer's address is skipped, the one before it is the client.
    expect(resolve('10.0.0.5', '198.51.100.7, 172.16.4.4')).toBe('198.51.100.7');
    // A peer that is not a trusted proxy is the client, header or not.
    expect(resolve('203.0.113.9', '198.51.100.7')).toBe('203.0.113.9');
    expect(resolve('10.0.0.5', undefined)).toBe('10.0.0.5');
    // Mapped IPv4, ports and brackets are read as plain addresses.
    expect(resolve('::ffff:10.0.0.5', '198.51.100.7:51234')).toBe('198.51.100.7');
    expect(resolve('10.0.0.5', '[2001:db8::7]:443')).toBe('2001:db8::7');
    // An entry that is no address leaves the request with the trusted hop that wrote it.
    expect(resolve('10.0.0.5', 'unknown')).toBe('10.0.0.5');
    expect(resolve('10.0.0.5', '198.51.100.7, _hidden, 172.16.0.1')).toBe('172.16.0.1');
    expect(resolve('10.0.0.5', '')).toBe('10.0.0.5');
  });

  it('knows the named ranges', () => {
    const resolve = createClientAddressResolver(['loopback', 'private']);
    expect(resolve('127.0.0.1', '198.51.100.7')).toBe('198.51.100.7');
    expect(resolve('::1', '2001:db8::1')).toBe('2001:db8::1');
    expect(resolve('192.168.1.1', '10.9.9.9, 198.51.100.7')).toBe('198.51.100.7');
    expect(resolve('fd12::1', '198.51.100.7')).toBe('198.51.100.7');
  });

  it('never answers with an address a client wrote into the header (any header, any chain)', () => {
    const trusted = ['10.0.0.0/8'];
    const resolve = createClientAddressResolver(trusted);
    const octet = fc.integer({ min: 0, max: 255 });
    const publicIp = fc.tuple(octet, octet).map(([a, b]) => `198.51.${a}.${b}`);
    const proxyIp = fc.tuple(octet, octet).map(([a, b]) => `10.0.${a}.${b}`);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(publicIp, fc.string({ maxLength: 20 })), { maxLength: 6 }),
        publicIp,
        fc.array(proxyIp, { minLength: 1, maxLength: 4 }),
        (forged, client, proxies) => {
          // The client sends `forged`; the first proxy appends the client, each later proxy its predecessor.
          const header = [...forged, client, ...proxies.slice(0, -1)].join(', ');
          expect(resolve(proxies.at(-1)!, header)).toBe(client);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads the for= values of a Forwarded header (RFC 7239) when configured, and then only that header', () => {
    expect(
      forwardedForValues(
        'for=192.0.2.43, For="[2001:db8:cafe::17]:4711";proto=https, by=10.0.0.5, for=unknown',
      ),
    ).toEqual(['192.0.2.43', '[2001:db8:cafe::17]:4711', '', 'unknown']);
    // A quoted value may hold separators; an escaped quote stays in it.
    expect(forwardedForValues('for="198.51.100.7:80";host="a,b;c", for="x\\"y"')).toEqual([
      '198.51.100.7:80',
      'x"y',
    ]);
    const resolve = createClientAddressResolver(['10.0.0.5', '172.16.0.0/12'], 'forwarded');
    expect(resolve('10.0.0.5', 'for=198.51.100.7;proto=https')).toBe('198.51.100.7');
    expect(resolve('10.0.0.5', 'for=1.2.3.4, for="198.51.100.7:51234"')).toBe('198.51.100.7');
    expect(resolve('10.0.0.5', 'for="[2001:db8::7]:443", for=172.16.4.4')).toBe('2001:db8::7');
    // An element without for=, or an obfuscated one, leaves the request with the hop that wrote it.
    expect(resolve('10.0.0.5', 'for=198.51.100.7, proto=https;by=172.16.0.1')).toBe('10.0.0.5');
    expect(resolve('10.0.0.5', 'for=_hidden')).toBe('10.0.0.5');
    expect(resolve('203.0.113.9', 'for=198.51.100.7')).toBe('203.0.113.9');
    // The default header is X-Forwarded-For: a Forwarded value handed to it names no address.
    expect(createClientAddressResolver(['10.0.0.5'])('10.0.0.5', 'for=198.51.100.7')).toBe('10.0.0.5');
  });

  it('refuses entries that name no address or range', () => {
    expect(trustedProxyProblem('10.0.0.0/8')).toBeNull();
    expect(trustedProxyProblem('2001:db8::/32')).toBeNull();
    expect(trustedProxyProblem('private')).toBeNull();
    expect(trustedProxyProblem('10.0.0.0/40')).toMatch(/prefix/);
    expect(trustedProxyProblem('lb.internal')).toMatch(/not an IP/);
    expect(() => createClientAddressResolver(['lb.internal'])).toThrow(/trustedProxies/);
    expect(plainAddress('::ffff:7.7.7.7')).toBe('7.7.7.7');
  });
});
