import { describe, expect, it } from 'vitest';
import { currentState, gpcPurposesToRecord, mergeLedgers, stateAt, type ConsentRecord } from './ledger.ts';

let n = 0;
function rec(
  decidedAt: number,
  purposes: ConsentRecord['purposes'],
  method: ConsentRecord['method'] = 'banner',
  subjectIds = ['s1'],
): ConsentRecord {
  n++;
  return {
    consentId: `c${String(n).padStart(4, '0')}`,
    subjectIds,
    purposes,
    noticeVersion: '1',
    noticeHash: 'h',
    method,
    locale: 'en',
    channel: null,
    decidedAt,
    supersedes: null,
  };
}

describe('consent ledger', () => {
  it('judges a purpose by the latest decision at or before the time asked', () => {
    const grant = rec(100, { analytics: true });
    const withdraw = rec(200, { analytics: false });
    const ledger = [grant, withdraw];
    expect(stateAt(ledger, 'analytics', 50)).toMatchObject({ granted: false, consentId: null });
    expect(stateAt(ledger, 'analytics', 100)).toMatchObject({ granted: true, consentId: grant.consentId });
    expect(stateAt(ledger, 'analytics', 199)).toMatchObject({ granted: true, consentId: grant.consentId });
    expect(stateAt(ledger, 'analytics', 200)).toMatchObject({
      granted: false,
      consentId: withdraw.consentId,
    });
  });

  it('keeps purposes a decision does not mention', () => {
    const ledger = [rec(1, { analytics: true, marketing_email: true }), rec(2, { marketing_email: false })];
    const now = currentState(ledger);
    expect(now.analytics.granted).toBe(true);
    expect(now.marketing_email.granted).toBe(false);
    expect(now.necessary.granted).toBe(true);
  });

  it('merges linked subjects into one ordered ledger without duplicates', () => {
    const a = rec(10, { analytics: true }, 'banner', ['u', 'd']);
    const b = rec(20, { analytics: false }, 'banner', ['d']);
    const merged = mergeLedgers([[a], [b, a]]);
    expect(merged.map((r) => r.consentId)).toEqual([a.consentId, b.consentId]);
  });

  it('records GPC once, and lets a later explicit choice win', () => {
    expect(gpcPurposesToRecord([])).toEqual(['advertising', 'sale']);
    const gpc = rec(10, { advertising: false, sale: false }, 'gpc');
    expect(gpcPurposesToRecord([gpc])).toEqual([]);
    const yes = rec(20, { advertising: true }, 'banner');
    expect(gpcPurposesToRecord([gpc, yes])).toEqual([]);
    // Granted before GPC was ever seen: the signal overrides it.
    const early = rec(5, { advertising: true, sale: true }, 'banner');
    expect(gpcPurposesToRecord([early])).toEqual(['advertising', 'sale']);
  });
});
