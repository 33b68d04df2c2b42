/**
 * The shape every capability module has once created: its name, its tables (migrations), its routes,
 * its background job handlers and its lifecycle. The composition root (src/server) collects them.
 */
import type { Migration } from 'kysely/migration';
import type { Router } from './http.ts';

export type JobHandler = (payload: unknown, context: { jobId: string; attempt: number }) => Promise<void>;

export type CandorModule = {
  readonly name: string;
  /** Migrations keyed by a globally unique, ordered name: `<module>-NNNN-<what>`. */
  readonly migrations?: Record<string, Migration>;
  /** Mounts cross-cutting middleware (rate limits) before any module's routes, whatever the module order. */
  middleware?(router: Router): void;
  /** Mounts the module's HTTP routes (with their zod/OpenAPI schemas). */
  routes?(router: Router): void;
  /** Background job handlers by job kind. */
  readonly jobs?: Record<string, JobHandler>;
  /** Recurring work: job kind and period. */
  readonly schedules?: readonly { name: string; kind: string; everyMs: number; payload?: unknown }[];
  start?(): Promise<void>;
  /** Flushes buffers; called during graceful shutdown after HTTP stopped accepting. */
  stop?(): Promise<void>;
};
