/** The recommend module's personal data: "not interested" feedback and per-shopper impressions. */
import type { PersonalDataHolder, Subject } from '../privacy/index.ts';
import type { RecommendService } from './recommend.service.ts';

export function createRecommendHolder(service: RecommendService): PersonalDataHolder {
  return {
    describe: () => ({
      name: 'recommend',
      summary:
        'Items and categories you marked "not interested", which recommended items you were shown and how often, and your events as part of the recommendation model (without your identity).',
      sources: ['you, when you give feedback on a recommendation', 'computed from your events'],
      automatedDecisions: [
        {
          name: 'recommendations',
          description:
            'Orders products by what shoppers with similar interests viewed and bought, and by popularity.',
          effect:
            'Which products are suggested to you; prices never depend on it. Turn personalisation off to get popularity-only suggestions.',
        },
      ],
      tables: [
        {
          store: 'state',
          table: 'recommend_feedback',
          subjectColumns: ['subject_id'],
          personalColumns: ['value'],
          category: 'recommendations',
          purpose: 'Never to suggest items or categories you said you are not interested in.',
          retention: 'Until erasure.',
        },
        {
          store: 'state',
          table: 'recommend_impressions',
          subjectColumns: ['subject_id'],
          personalColumns: ['item_id'],
          category: 'recommendations',
          purpose: 'Not to show you the same suggestions again and again.',
          retention: 'Until erasure.',
        },
      ],
    }),
    async export(subject: Subject) {
      const data = await service.exportSubject(subject.subjectIds);
      return {
        tables: {
          recommend_feedback: data.feedback.map((r) => ({ ...r, created_at: Number(r.created_at) })),
          recommend_impressions: data.impressions.map((r) => ({ ...r, last_at: Number(r.last_at) })),
        },
        notes: [
          'Recommendation models hold no identifiers; after an erasure they are retrained without your events.',
        ],
      };
    },
    async erase(subject: Subject) {
      return { deleted: await service.erase(subject.subjectIds) };
    },
  };
}
