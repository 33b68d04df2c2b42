export { createConsentModule } from './consent.module.ts';
export type {
  ConsentModule,
  ConsentModuleDeps,
  ConsentModuleConfig,
  ConsentReader,
} from './consent.module.ts';
export {
  createConsentService,
  subjectIdsFor,
  hashNotice,
  DEFAULT_NOTICE_VERSION,
  DEFAULT_NOTICE_TEXTS,
} from './consent.service.ts';
export type {
  ConsentService,
  ConsentDeps,
  RecordDecisionInput,
  ConsentHistory,
  AuditEntry,
} from './consent.service.ts';
export { stateAt, currentState, gpcPurposesToRecord, mergeLedgers } from './ledger.ts';
export type { ConsentRecord, PurposeState } from './ledger.ts';
export {
  PURPOSES,
  CONSENT_PURPOSES,
  GPC_PURPOSES,
  LEGAL_BASIS,
  CONSENT_METHODS,
  SUBJECT_NAMESPACE,
  isPurpose,
} from './purposes.ts';
export type { Purpose, LegalBasis, ConsentMethod } from './purposes.ts';
export type { Notice } from './store.ts';
