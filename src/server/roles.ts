/**
 * What a process does, from its role and whether a stream is configured.
 *
 * - Embedded (no CANDOR_STREAM_URL): one process; ingestion appends straight to the event store through the
 *   group-commit buffer. `api`/`worker` only split HTTP from jobs.
 * - Server mode (CANDOR_STREAM_URL=nats://…): `api` processes authenticate, validate, consent-gate and
 *   publish batches to JetStream (the client's 200 waits for the JetStream ack); `worker` processes consume
 *   them into the event store and run the scheduled jobs under leases; `all` does both in one process.
 */
import type { RuntimeConfig } from '../kernel/config.ts';
import { AppError } from '../kernel/errors.ts';

export type RolePlan = {
  role: RuntimeConfig['role'];
  /** Serve HTTP (API, dashboard). */
  http: boolean;
  /** Run the job runner (schedules, retention, DSAR, training). */
  jobs: boolean;
  /** Ingestion publishes to the stream instead of appending to the event store. */
  publishToStream: boolean;
  /** Consume the ingestion stream into the event store. */
  consumeStream: boolean;
};

export function planRole(
  config: Pick<RuntimeConfig, 'role' | 'streamUrl' | 'eventsUrl' | 'stateUrl'>,
): RolePlan {
  const { role } = config;
  const server = Boolean(config.streamUrl);
  if (server && role !== 'all' && (!config.eventsUrl || !config.stateUrl)) {
    // Separate api and worker processes must share their stores; embedded files belong to one process.
    throw new AppError(
      'config_invalid',
      `--role ${role} with a stream needs shared stores: set CANDOR_STATE_URL and CANDOR_EVENTS_URL to postgres:// URLs.`,
    );
  }
  return {
    role,
    http: role !== 'worker',
    jobs: role !== 'api',
    publishToStream: server,
    consumeStream: server && role !== 'api',
  };
}
