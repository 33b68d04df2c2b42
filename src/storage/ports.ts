/**
 * Storage ports. Modules depend on these types only; adapters (SQLite, PostgreSQL, DuckDB, NATS, the
 * in-process stream) implement them and pass one shared contract suite (contract/*.contract.ts).
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/** Kysely 0.29 exports migrations from 'kysely/migration'; modules take the type from here. */
export type { Migration };

export type StateDialect = 'sqlite' | 'postgres';
export type EventDialect = 'duckdb' | 'postgres';

/**
 * The transactional store: consent ledger, profiles, PII vault, DSAR, staff, audit, campaigns, loyalty, jobs.
 * Portable column conventions (see `columnTypes`): timestamps are epoch milliseconds (bigint), JSON is
 * text, booleans are integers 0/1, binary is blob/bytea.
 */
export type StateStore = {
  readonly dialect: StateDialect;
  /** Untyped at the port; a module narrows it to its own tables with `tablesOf<T>(store)`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each module types its own tables
  readonly db: Kysely<any>;
  /** Runs `fn` in one transaction; rolls back when it throws. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
  transaction<T>(fn: (trx: Kysely<any>) => Promise<T>): Promise<T>;
  /** Applies every pending migration (idempotent; safe when several processes start together). */
  migrate(migrations: Record<string, Migration>): Promise<{ applied: string[] }>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Writes that must never hold the serving thread: high-volume, loss-tolerant counters (recommendation
   * impressions). Each statement commits on its own, in order, off the serving thread; resolves once all
   * have. A commit may skip the fsync, so a power loss may drop the last ones (decision 0012). Absent where
   * a write does not block the serving thread anyway (PostgreSQL): run the statements directly.
   */
  readonly backgroundWrites?: BackgroundWrites;
  /**
   * Change notices between the processes that share this store, for modules that cache what they read
   * (PostgreSQL LISTEN/NOTIFY). Absent when one process owns the store (SQLite): its caches see every write.
   */
  readonly notices?: StateNotices;
};

export type BackgroundWrites = {
  run(queries: readonly { readonly sql: string; readonly parameters: readonly unknown[] }[]): Promise<void>;
};

/** Notices on named channels, sent inside a transaction and delivered to every listening process. */
export type StateNotices = {
  /** Queues `payload` (at most 7,000 bytes) on `channel`; every listener, this process's too, gets it at commit. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the caller's transaction, any tables
  notify(trx: Kysely<any>, channel: string, payload: string): Promise<void>;
  /**
   * Delivers the channel's notices to `onNotice`. `onListening(false)` says notices may be missed from now
   * on (not yet listening, or the connection was lost), `onListening(true)` that they arrive again; a cache
   * must not trust what it holds in between. Reconnects by itself until stopped.
   */
  listen(
    channel: string,
    handlers: { onNotice(payload: string): void; onListening(listening: boolean): void },
  ): Promise<{ stop(): Promise<void> }>;
};

/** One stored behavioural event. Subject ids are pseudonyms; no IP, no direct identifiers. */
export type EventRecord = {
  eventId: string;
  sourceId: string;
  /** Pseudonym of the person (customer pseudonym when known, else device pseudonym). */
  subjectId: string;
  /** Pseudonym of the device id, when there is one. */
  anonymousId: string | null;
  /** Pseudonym of the shop's customer id, when known. */
  userId: string | null;
  sessionId: string | null;
  type: string;
  /** The purpose under which it was collected (DESIGN §5) and the consent record that allowed it. */
  purpose: string;
  consentId: string | null;
  /** Event time and server receive time, epoch ms. */
  ts: number;
  receivedAt: number;
  path: string | null;
  referrer: string | null;
  productId: string | null;
  category: string | null;
  query: string | null;
  orderId: string | null;
  revenue: number | null;
  currency: string | null;
  quantity: number | null;
  deviceClass: string | null;
  country: string | null;
  region: string | null;
  utmSource: string | null;
  /** Remaining allow-listed properties, JSON object text. */
  props: string;
};

export type AppendResult = { inserted: number; duplicates: number };

/** The analytical store (DuckDB embedded, PostgreSQL monthly partitions in server mode). */
export type EventStore = {
  readonly dialect: EventDialect;
  /** For analytical queries through Kysely (table `events`, snake_case columns; see EVENT_COLUMNS). */
  readonly db: Kysely<EventTables>;
  /** Appends durably; an event id already stored is skipped (idempotent), never duplicated. */
  append(events: readonly EventRecord[]): Promise<AppendResult>;
  /**
   * Accepts events durably, idempotent on event id like `append`, without reporting what was new: it may
   * resolve before they are in the `events` table (DuckDB: once its journal has them), but every read or
   * write of this store that starts after it resolved sees them. Ingestion's acknowledgement path.
   */
  accept(events: readonly EventRecord[]): Promise<void>;
  /** Every event of these subjects, oldest first (export). */
  eventsOfSubjects(subjectIds: readonly string[], limit?: number): Promise<EventRecord[]>;
  /** Deletes every event of these subjects (erasure); returns how many rows went. */
  deleteSubjects(subjectIds: readonly string[]): Promise<number>;
  /** Deletes events older than `beforeTs` matching an optional filter (retention). */
  deleteOlderThan(
    beforeTs: number,
    filter?: { identified?: boolean; types?: readonly string[] },
  ): Promise<number>;
  count(): Promise<number>;
  ping(): Promise<void>;
  /** Makes deleted data physically gone from files (DuckDB CHECKPOINT, PostgreSQL VACUUM). */
  compact(): Promise<void>;
  /**
   * Removes deleted rows' bytes from storage for good (erasure's residual-data guarantee). DuckDB rewrites
   * the whole file (queries and appends wait meanwhile; seconds per million events); PostgreSQL runs a
   * plain VACUUM and relies on its own reuse of the freed space (`rewritten: false`).
   */
  purge(): Promise<PurgeResult>;
  close(): Promise<void>;
};

export type PurgeResult = { rewritten: boolean; bytesBefore: number; bytesAfter: number };

/** snake_case row shape of the `events` table, as analytical SQL sees it. */
export type EventRow = {
  event_id: string;
  source_id: string;
  subject_id: string;
  anonymous_id: string | null;
  user_id: string | null;
  session_id: string | null;
  type: string;
  purpose: string;
  consent_id: string | null;
  ts: Date;
  received_at: Date;
  path: string | null;
  referrer: string | null;
  product_id: string | null;
  category: string | null;
  query: string | null;
  order_id: string | null;
  revenue: number | null;
  currency: string | null;
  quantity: number | null;
  device_class: string | null;
  country: string | null;
  region: string | null;
  utm_source: string | null;
  props: string;
};

export type EventTables = { events: EventRow };

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export type Job = {
  id: string;
  kind: string;
  payload: unknown;
  attempts: number;
  maxAttempts: number;
  runAt: number;
  uniqueKey: string | null;
};

export type EnqueueOptions = {
  /** Earliest run time, epoch ms (default now). */
  runAt?: number;
  maxAttempts?: number;
  /** At most one queued-or-running job per unique key (idempotent enqueue). */
  uniqueKey?: string;
};

/** A jobs/outbox table in the state store: retries with backoff, leases, recurring schedules. */
export type Jobs = {
  enqueue(
    kind: string,
    payload: unknown,
    options?: EnqueueOptions,
  ): Promise<{ id: string; created: boolean }>;
  /** Claims one due job of these kinds with a lease; a job whose lease expired is claimable again. */
  claim(workerId: string, kinds: readonly string[], leaseMs: number): Promise<Job | null>;
  complete(jobId: string, workerId: string): Promise<void>;
  /** Records a failure; retries after exponential backoff with jitter until maxAttempts, then `failed`. */
  fail(
    jobId: string,
    workerId: string,
    error: string,
  ): Promise<{ willRetry: boolean; nextRunAt: number | null }>;
  /** Creates or updates a recurring schedule; due schedules enqueue one job per period (exactly once). */
  schedule(name: string, kind: string, everyMs: number, payload?: unknown): Promise<void>;
  /** Enqueues jobs for schedules that are due; safe to call from several workers at once. */
  tickSchedules(): Promise<number>;
  get(jobId: string): Promise<(Job & { status: JobStatus; lastError: string | null }) | null>;
  counts(): Promise<Record<JobStatus, number>>;
};

/** A batch of messages on the ingestion stream (NATS JetStream in server mode, in-process otherwise). */
export type StreamMessage = { id: string; data: Uint8Array };

export type Stream = {
  /** Resolves once the stream has durably accepted the message (JetStream ack). */
  publish(subject: string, message: StreamMessage): Promise<void>;
  /** Delivers messages; resolve the handler to ack, throw to have it redelivered. */
  consume(
    subject: string,
    durable: string,
    handler: (message: StreamMessage) => Promise<void>,
  ): Promise<{ stop(): Promise<void> }>;
  ping(): Promise<void>;
  close(): Promise<void>;
};

/** Every store a process has open. */
export type Stores = {
  state: StateStore;
  events: EventStore;
  jobs: Jobs;
  /** The ingestion stream in server mode (CANDOR_STREAM_URL); absent in the embedded mode. */
  stream?: Stream;
  close(): Promise<void>;
};
