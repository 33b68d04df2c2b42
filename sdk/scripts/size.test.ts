import { describe, expect, it } from 'vitest';
import { BUDGET_BYTES, measureSdk } from './size.ts';

// The same check as `npm run sdk:size`, so `npm test` (and CI) fails when the tracker outgrows its budget.
describe('the SDK size budget', () => {
  it('keeps the script-tag build within 5 KB gzipped', async () => {
    const [iife] = await measureSdk();
    expect(iife!.file).toBe('sdk/dist/candor.iife.js');
    expect(iife!.gzip).toBeGreaterThan(1000);
    expect(iife!.gzip).toBeLessThanOrEqual(BUDGET_BYTES);
  });
});
