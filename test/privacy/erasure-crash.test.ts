/**
 * Issue 4: an erasure survives a crash mid-way. The process is killed (SIGKILL) while a target is running;
 * on restart the unfinished request resumes, completes every target and only then issues its receipt.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../../src/flows/dsar-erase/index.ts';
import { openShop, scanFor, type Shop } from './helpers.ts';

let shop: Shop | undefined;
afterEach(async () => {
  await shop?.close();
  shop?.dir.cleanup();
  shop = undefined;
});

describe('issue 4: erasure survives a crash', () => {
  it('resumes after SIGKILL and issues the receipt only when every target is done', async () => {
    shop = await openShop();
    const dir = shop.dir;
    const secrets = shop.candor.config.secrets;
    const tag = randomBytes(6).toString('hex');
    const customerId = `cust-${tag}`;
    const email = `crash.${tag}@example.test`;
    await shop.call('POST', '/v1/consent', {
      body: {
        writeKey: shop.writeKey,
        userId: customerId,
        purposes: { analytics: true, personalization: true },
        noticeVersion: '1',
      },
    });
    await shop.track({ type: 'identify', userId: customerId, traits: { email } });
    await shop.track({
      type: 'track',
      event: 'Product Viewed',
      userId: customerId,
      properties: { product_id: 'p1', category: 'Tents' },
    });
    await shop.waitForEvents(2);
    await shop.close();
    shop = undefined;

    const child = spawn(
      process.execPath,
      [path.join(import.meta.dirname, 'erase-child.ts'), dir.path, customerId, JSON.stringify(secrets)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('IN_SLOW_TARGET')) resolve();
      });
      child.on('exit', (code) =>
        reject(new Error(`child exited (${code}) before reaching the slow target: ${stderr}`)),
      );
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    shop = await openShop(dir, secrets);
    // The holder that was cut short is registered again (it now completes).
    shop.privacy.registry.register({
      describe: () => ({ name: 'slow', summary: 'test holder', tables: [] }),
      export: async () => ({ tables: {} }),
      erase: async () => ({ deleted: 0 }),
    });
    const [pending] = await shop.privacy.service.dsar.unfinished();
    expect(pending).toBeDefined();
    expect(pending!.receipt).toBeNull();
    const before = await shop.privacy.service.dsar.targets(pending!.id);
    expect(before.find((t) => t.target === 'holder:profiles')?.status).toBe('done');
    expect(before.find((t) => t.target === 'holder:slow')?.status).toBe('pending');

    const [resumed] = await shop.privacy.service.resumeUnfinished();
    expect(resumed!.status).toBe('completed');
    expect(resumed!.targets.every((t) => t.status === 'done')).toBe(true);
    expect(verifyReceipt(resumed!.receipt!)).toBe(true);
    expect(await shop.privacy.service.dsar.unfinished()).toEqual([]);

    const dataDir = shop.candor.config.dataDir;
    await shop.close();
    expect(scanFor(dataDir, [email, customerId])).toEqual([]);
  });
});
