/**
 * Issue 4: erasure notifies registered processors by a signed webhook, retried until it is accepted. A
 * local HTTP server plays the processor and checks every delivery against the server's public key; the
 * receipt is only issued once the processor has accepted the notice.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../../src/flows/dsar-erase/index.ts';
import { createPseudonymizer, publicKeyPem, verifyDetached } from '../../src/kernel/crypto.ts';
import { openShop, type Shop } from './helpers.ts';

type Delivery = { body: string; signature: string; verified: boolean };

let shop: Shop;
let server: Server;
let url: string;
const deliveries: Delivery[] = [];
/** What the processor answers, delivery by delivery (then 200). */
const answers: number[] = [];

beforeAll(async () => {
  shop = await openShop();
  const publicKey = publicKeyPem(shop.candor.config.secrets.signingKey);
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const signature = String(req.headers['candor-signature'] ?? '');
      deliveries.push({ body, signature, verified: verifyDetached(publicKey, body, signature) });
      res.statusCode = answers.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/candor-erasure`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await shop.close();
  shop.dir.cleanup();
});

describe('processor erasure webhook', () => {
  it('sends a signed notice, retries a failed delivery, and issues the receipt only after it is accepted', async () => {
    await shop.privacy.processing.upsertProcessor({
      name: 'mailer',
      role: 'processor',
      purposes: ['marketing_email'],
      categories: ['identifiers'],
      country: 'SG',
      webhookUrl: url,
    });
    const customerId = `cust-${randomBytes(5).toString('hex')}`;
    await shop.call('POST', '/v1/consent', {
      body: {
        writeKey: shop.writeKey,
        userId: customerId,
        purposes: { analytics: true },
        noticeVersion: '1',
      },
    });
    const token = await shop.shopperToken(customerId);
    answers.push(503);

    const first = await shop.call('POST', '/v1/me/erase', { auth: token, body: { jurisdiction: 'gdpr' } });
    expect(first.status).toBe(202);
    const pending = (await first.json()) as {
      requestId: string;
      status: string;
      receipt: unknown;
      targets: { target: string; status: string; error?: string | null }[];
    };
    expect(pending.status).toBe('processing');
    expect(pending.receipt).toBeNull();
    expect(pending.targets.find((t) => t.target === 'processor:mailer')?.status).toBe('failed');
    expect(
      pending.targets.filter((t) => t.target.startsWith('holder:')).every((t) => t.status === 'done'),
    ).toBe(true);
    // The holders are done, so the erasure counts as complete for writers that ask (ingestion would otherwise
    // check every group against it until the processor answers).
    const named: { completed_at: unknown }[] = await shop.candor.stores.state.db
      .selectFrom('privacy_erased')
      .select('completed_at')
      .execute();
    expect(named.length).toBeGreaterThan(0);
    expect(named.every((r) => r.completed_at !== null)).toBe(true);

    // The retry job finishes it.
    const [resumed] = await shop.privacy.service.resumeUnfinished();
    expect(resumed!.status).toBe('completed');
    expect(verifyReceipt(resumed!.receipt!, publicKeyPem(shop.candor.config.secrets.signingKey))).toBe(true);

    expect(deliveries).toHaveLength(2);
    expect(deliveries.every((d) => d.verified)).toBe(true);
    const notice = JSON.parse(deliveries[1]!.body) as {
      type: string;
      requestId: string;
      subjectIds: string[];
    };
    const pseudonym = createPseudonymizer(shop.candor.config.secrets.pseudonymKey!)('user', customerId);
    expect(notice).toMatchObject({ type: 'candor.erasure_request', requestId: pending.requestId });
    expect(notice.subjectIds).toContain(pseudonym);
    // A forged or altered notice does not verify.
    const publicKey = publicKeyPem(shop.candor.config.secrets.signingKey);
    expect(
      verifyDetached(publicKey, deliveries[1]!.body.replace('erasure', 'erasurf'), deliveries[1]!.signature),
    ).toBe(false);

    // The share log records that the notice went out, without naming the shopper.
    const record = await shop.privacy.processing.record('Test shop');
    const share = record.shares.find((s) => s.recipient === 'mailer');
    expect(share).toMatchObject({ purpose: 'erasure_notice' });
    expect(JSON.stringify(record)).not.toContain(pseudonym);
  });
});
