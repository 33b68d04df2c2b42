export { createIngestModule, INGEST_QUARANTINE_RETENTION_JOB } from './ingest.module.ts';
export type { IngestModule, IngestModuleDeps, IngestModuleConfig } from './ingest.module.ts';
export { createIngestService, eventIdOf, INGEST_SUBJECT, INGEST_DURABLE } from './ingest.service.ts';
export type {
  IngestService,
  IngestDeps,
  IngestConfig,
  IngestConsent,
  IngestOutcome,
} from './ingest.service.ts';
export {
  EVENT_TYPES,
  SEGMENT_EVENT_NAMES,
  NECESSARY_TYPES,
  eventTypeOf,
  type EventType,
} from './event-types.ts';
export { MAX_BATCH_EVENTS, MAX_BATCH_BYTES } from './ingest.routes.ts';
export { MAX_EVENT_BYTES } from './validate-event.step.ts';
export type { Identifiers } from './pseudonymise-event.step.ts';
export type { DropReason, QuarantineReason } from './step.ts';
