import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateSecrets, loadConfig, resolveSecrets } from './config.ts';
import { hasCode } from './errors.ts';

function tmp() {
  return mkdtempSync(path.join(os.tmpdir(), 'candor-config-'));
}

describe('config', () => {
  it('defaults to development on the embedded stores', () => {
    const c = loadConfig({ env: {} });
    expect(c.env).toBe('development');
    expect(c.dataDir).toBe('./.candor-data');
    expect(c.stateUrl).toBeUndefined();
  });

  it('reads CANDOR_* variables, a JSON file, and overrides in that precedence', () => {
    const dir = tmp();
    const file = path.join(dir, 'candor.json');
    writeFileSync(file, JSON.stringify({ port: 1111, host: '0.0.0.0', privacy: { kAnonymity: 5 } }));
    const c = loadConfig({
      env: { CANDOR_PORT: '2222', CANDOR_CONFIG_FILE: file },
      overrides: { host: '::1' },
    });
    expect(c.port).toBe(2222);
    expect(c.host).toBe('::1');
    expect(c.privacy.kAnonymity).toBe(5);
    rmSync(dir, { recursive: true });
  });

  it('reads the privacy settings from the environment together', () => {
    const c = loadConfig({
      env: { CANDOR_K_ANONYMITY: '7', CANDOR_INLINE_PURGE_MAX_EVENTS: '0' },
    });
    expect(c.privacy).toEqual({ kAnonymity: 7, inlinePurgeMaxEvents: 0 });
    expect(loadConfig({ env: {} }).privacy.inlinePurgeMaxEvents).toBeUndefined();
  });

  it("reads the background threads' nice value: 10 by default, 0 to turn it off, nothing past 19", () => {
    expect(loadConfig({ env: {} }).backgroundThreadNice).toBe(10);
    expect(loadConfig({ env: { CANDOR_BACKGROUND_THREAD_NICE: '0' } }).backgroundThreadNice).toBe(0);
    for (const bad of ['20', '-1', 'low'])
      expect(() => loadConfig({ env: { CANDOR_BACKGROUND_THREAD_NICE: bad } })).toThrow(
        /backgroundThreadNice/,
      );
  });

  it('reads trusted proxies as a comma-separated list and names an entry it cannot use', () => {
    expect(loadConfig({ env: {} }).trustedProxies).toEqual([]);
    expect(
      loadConfig({ env: { CANDOR_TRUSTED_PROXIES: ' 10.0.0.5, 10.1.0.0/16,loopback ,' } }).trustedProxies,
    ).toEqual(['10.0.0.5', '10.1.0.0/16', 'loopback']);
    for (const bad of ['proxy.internal', '10.0.0.0/33', '10.0.0.1/8/2', 'fd00::/129'])
      expect(() => loadConfig({ env: { CANDOR_TRUSTED_PROXIES: bad } })).toThrow(/trustedProxies/);
  });

  it('reads the forwarded header to trust, X-Forwarded-For unless told', () => {
    expect(loadConfig({ env: {} }).forwardedHeader).toBe('x-forwarded-for');
    expect(loadConfig({ env: { CANDOR_FORWARDED_HEADER: ' Forwarded ' } }).forwardedHeader).toBe('forwarded');
    expect(() => loadConfig({ env: { CANDOR_FORWARDED_HEADER: 'x-real-ip' } })).toThrow(/forwardedHeader/);
  });

  it('lists every invalid field', () => {
    try {
      loadConfig({ env: { CANDOR_PORT: 'abc', CANDOR_ENV: 'staging' } });
      expect.unreachable();
    } catch (e) {
      expect(hasCode(e, 'config_invalid')).toBe(true);
      expect(String(e)).toMatch(/port/);
      expect(String(e)).toMatch(/env/);
    }
  });

  it('refuses to start in production without secrets and names the missing ones', () => {
    const c = loadConfig({ env: { CANDOR_ENV: 'production', CANDOR_KEK: generateSecrets().kek } });
    try {
      resolveSecrets(c);
      expect.unreachable();
    } catch (e) {
      expect(hasCode(e, 'missing_secret')).toBe(true);
      const msg = String(e);
      expect(msg).toContain('CANDOR_PSEUDONYM_KEY');
      expect(msg).toContain('CANDOR_SESSION_SECRET');
      expect(msg).not.toContain('CANDOR_KEK ');
    }
  });

  it('generates development secrets once, privately, into the data dir', () => {
    const dir = tmp();
    const c = loadConfig({ env: { CANDOR_DATA_DIR: dir } });
    const first = resolveSecrets(c);
    expect(first.generatedFile).toBe(path.join(dir, 'secrets.json'));
    expect(statSync(first.generatedFile!).mode & 0o777).toBe(0o600);
    const second = resolveSecrets(c);
    expect(second.generatedFile).toBeUndefined();
    expect(second.config.secrets.kek).toBe(first.config.secrets.kek);
    expect(JSON.parse(readFileSync(first.generatedFile!, 'utf8')).kek).toBe(first.config.secrets.kek);
    rmSync(dir, { recursive: true });
  });

  it('never generates secrets in test or production', () => {
    const dir = tmp();
    expect(() => resolveSecrets(loadConfig({ env: { CANDOR_ENV: 'test', CANDOR_DATA_DIR: dir } }))).toThrow(
      /Refusing to start in test/,
    );
    rmSync(dir, { recursive: true });
  });
});
