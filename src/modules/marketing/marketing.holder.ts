/**
 * What the marketing module keeps about a shopper — experiment exposures and outcomes, the loyalty ledger
 * and coupons — described, exported and erased for the privacy registry.
 */
import type { PersonalDataHolder, Subject } from '../privacy/index.ts';
import type { ExperimentsService } from './experiments.service.ts';
import type { CampaignsService } from './campaigns.service.ts';
import type { LoyaltyService } from './loyalty.service.ts';
import type { SegmentsService } from './segments.service.ts';

const idsOf = (s: Subject): string[] => [...new Set([...(s.userId ? [s.userId] : []), ...s.subjectIds])];

export function createMarketingHolder(
  experiments: ExperimentsService,
  loyalty: LoyaltyService,
  segments?: SegmentsService,
  campaigns?: CampaignsService,
): PersonalDataHolder {
  const mkt =
    'Sending you the marketing messages you opted in to, on the channel you opted in to (your consent), and measuring whether they worked.';
  const exp =
    'Measuring whether a change to the shop works better (A/B testing), under the shop’s legitimate interest.';
  const loy =
    'Running the loyalty points programme you joined: earning, redeeming, expiry and refunds (contract).';
  return {
    describe: () => ({
      name: 'marketing',
      summary:
        'Which variant of each shop experiment you saw and the measured outcome (e.g. whether you bought), your loyalty points movements, balance and coupons.',
      sources: [
        'the shop pages you visited during experiments',
        'your orders, reviews and shares',
        'your redemptions',
      ],
      tables: [
        {
          store: 'state',
          table: 'mkt_exposures',
          subjectColumns: ['subject_id'],
          category: 'experiments',
          purpose: exp,
          retention: 'Until erasure or the experiment is deleted.',
        },
        {
          store: 'state',
          table: 'mkt_outcomes',
          subjectColumns: ['subject_id'],
          personalColumns: ['value', 'pre_value'],
          category: 'experiments',
          purpose: exp,
          retention: 'Until erasure or the experiment is deleted.',
        },
        {
          store: 'state',
          table: 'mkt_segment_members',
          subjectColumns: ['subject_id'],
          category: 'segments',
          purpose:
            'Grouping shoppers for marketing by behaviour and consent; by profile only while personalisation is on.',
          retention: 'Until the next refresh no longer matches, or erasure.',
        },
        {
          store: 'state',
          table: 'mkt_campaign_sends',
          subjectColumns: ['subject_id'],
          category: 'marketing',
          purpose: mkt,
          retention: 'Until erasure.',
        },
        {
          store: 'state',
          table: 'mkt_suppressions',
          subjectColumns: ['subject_id'],
          category: 'marketing',
          purpose: 'Honouring your unsubscribe: no marketing on that channel again.',
          retention: 'Until erasure.',
        },
        {
          store: 'state',
          table: 'loyalty_accounts',
          subjectColumns: ['subject_id'],
          category: 'loyalty',
          purpose: loy,
          retention: 'Until erasure.',
        },
        {
          store: 'state',
          table: 'loyalty_transactions',
          subjectColumns: ['subject_id'],
          category: 'loyalty',
          purpose: loy,
          retention: 'Until erasure.',
        },
        {
          store: 'state',
          table: 'loyalty_postings',
          subjectColumns: ['subject_id'],
          category: 'loyalty',
          purpose: loy,
          retention: 'Until erasure.',
        },
        {
          store: 'state',
          table: 'loyalty_coupons',
          subjectColumns: ['subject_id'],
          category: 'loyalty',
          purpose: loy,
          retention: 'Until erasure.',
        },
      ],
      automatedDecisions: [
        {
          name: 'loyalty-farming-hold',
          description:
            'Points for many reviews within minutes, or for sharing a link you followed yourself, are held automatically.',
          effect: 'Held points are not usable until a person at the shop approves or rejects them.',
        },
      ],
    }),
    async export(subject) {
      const ids = idsOf(subject);
      const e = await experiments.exportSubjects(ids);
      const l = await loyalty.exportSubjects(ids);
      const members = (await segments?.exportSubjects(ids)) ?? [];
      const c = (await campaigns?.exportSubjects(ids)) ?? { sends: [], suppressions: [] };
      return {
        tables: {
          mkt_segment_members: members,
          mkt_campaign_sends: c.sends,
          mkt_suppressions: c.suppressions,
          mkt_exposures: e.exposures,
          mkt_outcomes: e.outcomes,
          loyalty_accounts: l.accounts,
          loyalty_transactions: l.transactions,
          loyalty_postings: l.postings,
          loyalty_coupons: l.coupons,
        },
      };
    },
    async erase(subject) {
      const ids = idsOf(subject);
      return {
        deleted:
          (await experiments.eraseSubjects(ids)) +
          (await loyalty.eraseSubjects(ids)) +
          ((await segments?.eraseSubjects(ids)) ?? 0) +
          ((await campaigns?.eraseSubjects(ids)) ?? 0),
      };
    },
  };
}
