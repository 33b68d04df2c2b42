/**
 * Issue 5: optional TLS termination. With `tls` cert/key in config the server speaks HTTPS only and sends
 * HSTS; without it, plain HTTP and no HSTS (browsers ignore HSTS over HTTP and a proxy may terminate TLS).
 * The certificate is a fresh self-signed one made by Debian's openssl for this test.
 */
import { execFileSync } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/kernel/config.ts';
import { createLogger } from '../../src/kernel/logger.ts';
import { createCandor, startServer, type RunningServer } from '../../src/server/index.ts';
import { makeTempDir, type TempDir } from '../../src/storage/testing.ts';
import { readFileSync } from 'node:fs';

let dir: TempDir;
let cert: Buffer;
let tls: RunningServer;
let plain: RunningServer;

const quiet = () => createLogger({ level: 'silent' });

beforeAll(async () => {
  dir = makeTempDir('candor-tls');
  const certFile = join(dir.path, 'cert.pem');
  const keyFile = join(dir.path, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  cert = readFileSync(certFile);
  const tlsCandor = await createCandor(
    testConfig(join(dir.path, 'tls-data'), { tls: { certFile, keyFile }, host: '127.0.0.1' }),
    { logger: quiet(), jobs: false },
  );
  tls = await startServer(tlsCandor, { port: 0, host: '127.0.0.1', print: () => undefined });
  const plainCandor = await createCandor(testConfig(join(dir.path, 'plain-data'), { host: '127.0.0.1' }), {
    logger: quiet(),
    jobs: false,
  });
  plain = await startServer(plainCandor, { port: 0, host: '127.0.0.1', print: () => undefined });
}, 60_000);

afterAll(async () => {
  await tls?.shutdown('test');
  await plain?.shutdown('test');
  dir?.cleanup();
});

function httpsGet(
  url: string,
  ca: Buffer | undefined,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, rejectUnauthorized: true }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS termination', () => {
  it('serves HTTPS with the configured certificate and sends HSTS', async () => {
    expect(tls.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await httpsGet(`${tls.url}/health`, cert);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d{7,}/);
    // Error answers carry it too.
    const missing = await httpsGet(`${tls.url}/v1/nothing-here`, cert);
    expect(missing.status).toBe(404);
    expect(missing.headers['strict-transport-security']).toBeTruthy();
  });

  it('a client that does not trust the certificate refuses it (it is the configured one, not a default)', async () => {
    await expect(httpsGet(`${tls.url}/health`, undefined)).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('does not answer plain HTTP on the TLS port', async () => {
    await expect(fetch(`${tls.url.replace('https:', 'http:')}/health`)).rejects.toThrow();
  });

  it('without TLS config: plain HTTP and no HSTS header', async () => {
    expect(plain.url).toMatch(/^http:\/\//);
    const res = await fetch(`${plain.url}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });
});
