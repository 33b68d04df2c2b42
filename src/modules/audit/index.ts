export { createAuditModule, AUDIT_CHECKPOINT_JOB } from './audit.module.ts';
export type { AuditModule, AuditModuleDeps, AuditModuleConfig } from './audit.module.ts';
export { createAuditService, entryHash, GENESIS_HASH } from './audit.service.ts';
export type {
  AuditWriter,
  AuditService,
  AuditEntry,
  AuditEntryInput,
  AuditOutcome,
  AuditQuery,
  AuditVerifyResult,
} from './audit.service.ts';
export { auditMigrations } from './store.ts';
