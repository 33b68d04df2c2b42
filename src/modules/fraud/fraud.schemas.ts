/** zod schemas of the fraud API (validation, types and the OpenAPI document from one definition). */
import { z } from '@hono/zod-openapi';
import { CASE_STATUSES, OUTCOME_KINDS, REPORT_KINDS, REVIEW_REASONS } from './fraud.service.ts';
import { RULE_ACTIONS } from './rules.ts';

const Country = z
  .string()
  .regex(/^[A-Za-z]{2}$/, 'Use an ISO 3166-1 alpha-2 country code such as ID or SG.')
  .optional();
const Minor = z.number().int().min(-1e12).max(1e12);
const Text = (max: number) => z.string().max(max);

const Address = z
  .object({
    line1: Text(200).optional(),
    line2: Text(200).optional(),
    city: Text(100).optional(),
    postalCode: Text(20).optional(),
    country: Country,
  })
  .strict()
  .openapi('FraudAddress');

export const ScoreBody = z
  .object({
    orderId: z.string().min(1).max(128),
    at: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: 'Time of the attempt (ISO 8601); now when absent.' }),
    amount: Minor.openapi({ description: 'Total charged, integer minor units (cents).' }),
    currency: z.string().regex(/^[A-Za-z]{3}$/, 'Use an ISO 4217 currency code such as IDR or USD.'),
    items: z
      .array(
        z
          .object({
            productId: z.string().min(1).max(128),
            quantity: z.number().int().min(-10_000).max(10_000),
            unitPrice: Minor,
            category: Text(200).optional(),
          })
          .strict(),
      )
      .max(500),
    discount: Minor.optional(),
    shippingCost: Minor.optional(),
    coupons: z.array(Text(64)).max(20).optional(),
    customer: z
      .object({
        id: Text(128).optional(),
        email: Text(254).optional(),
        accountCreatedAt: z.iso.datetime({ offset: true }).optional(),
      })
      .strict()
      .optional(),
    deviceId: Text(128).optional(),
    ip: Text(64).optional(),
    ipCountry: Country,
    billingAddress: Address.optional(),
    shippingAddress: Address.optional(),
    payment: z
      .object({
        fingerprint: Text(128).optional(),
        bin: z
          .string()
          .regex(/^\d{6,8}$/, 'bin is the first 6–8 digits of the card.')
          .optional(),
        binCountry: Country,
        last4: z
          .string()
          .regex(/^\d{4}$/, 'last4 is the last four digits of the card.')
          .optional(),
        threeDs: z.enum(['authenticated', 'attempted', 'failed', 'not_enrolled', 'unavailable']).optional(),
        avs: z.enum(['match', 'partial', 'mismatch', 'unavailable']).optional(),
        cvv: z.enum(['match', 'mismatch', 'unavailable']).optional(),
        authResult: z.enum(['approved', 'declined']).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .openapi('FraudScoreRequest');

export const ReasonSchema = z
  .object({ code: z.string(), message: z.string(), source: z.enum(['rule', 'model']) })
  .openapi('FraudReason');

export const ScoreResult = z
  .object({
    orderId: z.string(),
    score: z.number().int().min(0).max(100),
    decision: z.enum(['approve', 'review', 'decline']),
    reasons: z.array(ReasonSchema),
    caseId: z.string().nullable(),
    modelVersion: z.string(),
    rulesVersion: z.number().int(),
  })
  .openapi('FraudScore');

export const RuleSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'Rule ids are 1–64 lower-case letters, digits, - or _.'),
    name: z.string().min(1).max(200),
    expression: z.string().min(1).max(2000),
    action: z.enum(RULE_ACTIONS),
    points: z.number().min(-100).max(100).optional(),
    enabled: z.boolean().default(true),
  })
  .strict()
  .openapi('FraudRule');

export const RuleBody = RuleSchema.omit({ id: true });

export const RuleSet = z
  .object({ version: z.number().int(), rules: z.array(RuleSchema) })
  .openapi('FraudRuleSet');

export const DryRunBody = z
  .object({
    rules: z.array(RuleSchema).max(200),
    limit: z.number().int().min(1).max(10_000).optional(),
  })
  .strict();

export const CaseSchema = z
  .object({
    id: z.string(),
    orderId: z.string().nullable(),
    subjectId: z.string().nullable(),
    source: z.enum(['score', 'shopper_report', 'alert']),
    status: z.enum(CASE_STATUSES),
    score: z.number().nullable(),
    reasons: z.array(ReasonSchema),
    reportKind: z.string().nullable(),
    createdAt: z.string(),
    decidedAt: z.string().nullable(),
    decidedBy: z.string().nullable(),
    decisionReasons: z.array(z.string()),
  })
  .openapi('FraudCase');

export const CaseQuery = z.object({
  status: z.enum(CASE_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().max(100).optional(),
});

export const DecisionBody = z
  .object({
    decision: z.enum(['approve', 'decline']),
    reasons: z.array(z.enum(REVIEW_REASONS)).min(1, 'Give at least one reason for the decision.').max(5),
  })
  .strict();

export const OpenCaseBody = z
  .object({
    kind: z.enum(REPORT_KINDS),
    orderId: z.string().min(1).max(128).optional(),
    userId: z.string().min(1).max(128).optional(),
  })
  .strict();

export const ReportBody = z
  .object({ kind: z.enum(REPORT_KINDS), orderId: z.string().min(1).max(128).optional() })
  .strict();

export const OutcomeBody = z
  .object({
    orderId: z.string().min(1).max(128),
    kind: z.enum(OUTCOME_KINDS),
    amount: z.number().int().min(0).max(1e12).optional(),
  })
  .strict();
