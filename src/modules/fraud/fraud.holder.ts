/**
 * Fraud scores, cases and the history behind them are personal data (about an identifiable shopper, under the
 * shop's legitimate interest in preventing fraud): this holder describes them, exports them and erases them.
 */
import type { PersonalDataHolder } from '../privacy/index.ts';
import type { FraudService } from './fraud.service.ts';

export function createFraudHolder(service: FraudService, retentionDays: number): PersonalDataHolder {
  const retention = `${retentionDays} days after the order (attempt history: 8 days)`;
  const purpose =
    'Preventing payment fraud, account takeover, price manipulation and refund abuse (legitimate interest, GDPR Art. 6(1)(f), recital 47).';
  return {
    describe: () => ({
      name: 'fraud',
      summary:
        'Risk scores of your orders with their reasons, review cases about them, and counters of recent attempts (card, e-mail, device, IP and address appear only as keyed hashes).',
      sources: [
        'your orders at checkout, as the shop sends them',
        'outcomes such as refunds and chargebacks',
        'reports you make',
      ],
      tables: [
        {
          store: 'state',
          table: 'fraud_scores',
          subjectColumns: ['subject_id', 'device_subject'],
          personalColumns: ['features', 'reasons', 'keys'],
          category: 'security',
          purpose,
          retention,
        },
        {
          store: 'state',
          table: 'fraud_cases',
          subjectColumns: ['subject_id'],
          personalColumns: ['reasons'],
          category: 'security',
          purpose,
          retention,
        },
        {
          store: 'state',
          table: 'fraud_entities',
          subjectColumns: ['subject_id'],
          category: 'security',
          purpose,
          retention,
        },
        {
          store: 'state',
          table: 'fraud_velocity',
          subjectColumns: ['subject_id'],
          category: 'security',
          purpose,
          retention: '8 days',
        },
      ],
      automatedDecisions: [
        {
          name: 'fraud-score',
          description:
            'Each order gets a 0–100 risk score from shop-defined rules and a statistical model over signals such as order velocity, country mismatches and price tampering.',
          effect:
            'High scores hold the order for a person to review; no order is finally refused without that human review, and you can contest the outcome.',
        },
      ],
    }),
    async export(subject) {
      const ids = [...new Set([...(subject.userId ? [subject.userId] : []), ...subject.subjectIds])];
      const data = await service.exportSubjects(ids);
      return {
        tables: {
          fraud_scores: data.scores,
          fraud_cases: data.cases,
          fraud_entities: data.aggregates,
          fraud_velocity: data.attempts,
        },
      };
    },
    async erase(subject) {
      const ids = [...new Set([...(subject.userId ? [subject.userId] : []), ...subject.subjectIds])];
      return { deleted: await service.eraseSubjects(ids) };
    },
  };
}
