export { createPrivacyModule, PRIVACY_ERASE_JOB, PRIVACY_RETENTION_JOB } from './privacy.module.ts';
export type { PrivacyModule, PrivacyModuleDeps, PrivacyModuleConfig } from './privacy.module.ts';
export { createHolderRegistry, subjectIdsOf } from './holder.ts';
export type {
  PersonalDataHolder,
  Subject,
  HolderDescription,
  HolderExport,
  HolderRegistry,
  TableCoverage,
  DataCategory,
  StoreName,
  LegalHold,
  EraseOutcome,
  AutomatedDecision,
  CoverageExemption,
} from './holder.ts';
export { checkCoverage, listStoredColumns, looksPersonal } from './coverage.ts';
export type { CoverageReport, StoredColumn } from './coverage.ts';
export { createDsarStore } from './dsar.store.ts';
export type {
  DsarStore,
  DsarRequest,
  DsarKind,
  DsarChannel,
  DsarStatus,
  ErasureReceipt,
  ErasureTarget,
  TargetStatus,
} from './dsar.store.ts';
export {
  JURISDICTIONS,
  JURISDICTION_RULES,
  deadlineFor,
  isJurisdiction,
  addCalendarMonths,
} from './jurisdictions.ts';
export type { Jurisdiction } from './jurisdictions.ts';
export { createProcessingService } from './processing.service.ts';
export type { ProcessingService, Processor, ShareEntry, ProcessingRecord } from './processing.service.ts';
export { createRetentionService, RETENTION_CLASSES, DEFAULT_RETENTION_DAYS } from './retention.service.ts';
export type { RetentionService, RetentionClass } from './retention.service.ts';
export type {
  PrivacyService,
  DsarRunners,
  ErasureStatus,
  CodeSender,
  AuditRecorder,
} from './privacy.service.ts';
export { buildNotice, pickLocale, NOTICE_LOCALES } from './notice.ts';
export { writeTar, readTar, toCsv, bundleToTar } from './tar.ts';
export type { ExportBundle } from './tar.ts';
export { privacyMigrations } from './store.ts';
export { createErasedSubjects, ERASED_MEMORY_MS } from './erased-subjects.ts';
export type { ErasedSubjects } from './erased-subjects.ts';
export { createEventStoreHolder, EVENT_STORE_HOLDER } from './event-store.holder.ts';
export {
  createEventPurges,
  EVENTS_PURGE_JOB,
  EVENTS_PURGE_EVERY_MS,
  INLINE_PURGE_MAX_EVENTS,
} from './event-purge.ts';
export type { EventPurges, EventPurgeStatus } from './event-purge.ts';
export { createTakeBack } from './take-back.ts';
export type { TakeBack } from './take-back.ts';
