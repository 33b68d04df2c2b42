/**
 * Detection of suspicious activity. Sliding-window counters (abuse-counters.ts: this process's own, or
 * Redis shared by several API processes) notice password spraying
 * and credential stuffing (failed sign-ins over many accounts), OTP brute force, staff bulk reads of
 * personal data, unusual write-key volume and scraping of public endpoints. Each finding becomes a row
 * in `security_alerts` and an audit entry; the same finding is raised at most once per cool-down.
 * Subjects are pseudonymous (IP pseudonyms, staff ids, key ids).
 */
import type { Clock } from '../../kernel/clock.ts';
import { canonicalJson } from '../../kernel/crypto.ts';
import { newId } from '../../kernel/ids.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { StateStore } from '../../storage/ports.ts';
import type { AuditWriter } from './deps.ts';
import { createMemoryAbuseCounters, type AbuseCounters } from './abuse-counters.ts';
import { authDb } from './store.ts';

export type AlertKind =
  | 'password_spraying'
  | 'credential_stuffing'
  | 'otp_brute_force'
  | 'bulk_pii_read'
  | 'unusual_key_volume'
  | 'scraping';

export type SecurityAlert = {
  id: string;
  kind: AlertKind;
  severity: 'medium' | 'high';
  subject: string;
  details: Record<string, unknown>;
  createdAt: number;
};

export type AbuseThresholds = {
  windowMs: number;
  /** Distinct accounts failing from one IP in the window. */
  sprayAccounts: number;
  /** Distinct IPs failing across distinct accounts in the window (a botnet replaying a leak). */
  stuffingIps: number;
  otpFailures: number;
  piiReads: number;
  /** Requests per window from one write key, and how many times its usual rate that must be. */
  keyRequests: number;
  keyFactor: number;
  /** Requests per window from one IP to public endpoints. */
  scrapeRequests: number;
  coolDownMs: number;
};

export const DEFAULT_THRESHOLDS: AbuseThresholds = {
  windowMs: 10 * 60_000,
  sprayAccounts: 5,
  stuffingIps: 20,
  otpFailures: 8,
  piiReads: 200,
  keyRequests: 50_000,
  keyFactor: 10,
  scrapeRequests: 3_000,
  coolDownMs: 60 * 60_000,
};

/** Hits a window keeps at most, and notes waiting for shared counters at most. */
export const ABUSE_WINDOW_CAPACITY = 10_000;
const MAX_INFLIGHT = 10_000;

export type AbuseDetector = {
  noteLoginFailure(ipKey: string, accountKey: string): void;
  noteOtpFailure(staffId: string): void;
  notePiiRead(staffId: string, count?: number): void;
  noteKeyRequest(keyId: string): void;
  notePublicRequest(ipKey: string): void;
  listAlerts(query: { since?: number; limit?: number; kind?: string }): Promise<SecurityAlert[]>;
  /** Resolves once every alert noticed so far is stored (tests, shutdown). */
  flush(): Promise<void>;
};

export function createAbuseDetector(
  deps: {
    state: StateStore;
    clock: Clock;
    logger: Logger;
    audit: AuditWriter;
    /** Shared counters (Redis) when several API processes serve; the process's own otherwise. */
    counters?: AbuseCounters;
  },
  thresholds: Partial<AbuseThresholds> = {},
): AbuseDetector {
  const th = { ...DEFAULT_THRESHOLDS, ...thresholds };
  const db = authDb(deps.state);
  const now = () => deps.clock.now().getTime();
  const counters =
    deps.counters ?? createMemoryAbuseCounters({ windowMs: th.windowMs, capacity: ABUSE_WINDOW_CAPACITY });
  let pending: Promise<unknown> = Promise.resolve();
  const inflight = new Set<Promise<unknown>>();
  let lastCounterError = -Infinity;

  /**
   * Runs `judge` on a count: at once with the process's own counters, once the answer arrives with shared
   * ones. Notes come with requests and nobody waits for them; past MAX_INFLIGHT unanswered ones (shared
   * counters slow or gone) further notes are not counted rather than queued without bound.
   */
  function judged<T>(count: () => T | Promise<T>, judge: (value: T) => void): void {
    if (inflight.size >= MAX_INFLIGHT) return;
    let value: T | Promise<T>;
    try {
      value = count();
    } catch (err) {
      counterFailed(err);
      return;
    }
    if (!(value instanceof Promise)) {
      judge(value);
      return;
    }
    const p = value
      .then(judge, counterFailed)
      // Nobody awaits a note: a judgement that failed is logged, never left as an unhandled rejection.
      .catch((err: unknown) => deps.logger.error({ err }, 'abuse detection could not judge a note'))
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }

  /** A note that could not be counted; logged at most once a minute, as a failing Redis fails them all. */
  function counterFailed(err: unknown): void {
    const t = Date.now();
    if (t - lastCounterError < 60_000) return;
    lastCounterError = t;
    deps.logger.error({ err }, 'abuse counters unavailable: notes are not being counted');
  }

  const hits = (name: string, value: string, count: number, distinct: boolean) => () =>
    counters.hit(name, now(), value, count, distinct);

  function raise(
    kind: AlertKind,
    severity: 'medium' | 'high',
    subject: string,
    details: Record<string, string | number>,
  ): void {
    const t = now();
    judged(
      () => counters.claimAlert(`${kind}:${subject}`, t, th.coolDownMs),
      (claimed) => {
        if (claimed) store({ id: newId('alr'), kind, severity, subject, details, createdAt: t });
      },
    );
  }

  function store(alert: SecurityAlert & { details: Record<string, string | number> }): void {
    const { kind, severity, subject, details } = alert;
    pending = pending
      .then(async () => {
        await db
          .insertInto('security_alerts')
          .values({
            id: alert.id,
            kind,
            severity,
            subject,
            details: canonicalJson(details),
            created_at: alert.createdAt,
          })
          .execute();
        await deps.audit.record({
          actor: 'system:abuse-detector',
          action: 'security.alert',
          target: subject,
          outcome: 'success',
          details: { kind, severity, ...details },
        });
        deps.logger.warn({ alert: alert.id, kind, subject }, 'security alert');
      })
      .catch((err: unknown) => deps.logger.error({ err, kind }, 'could not store security alert'));
  }

  return {
    noteLoginFailure(ipKey, accountKey) {
      judged(hits(`login:ip:${ipKey}`, accountKey, 1, true), (perIp) => {
        if (perIp.distinct >= th.sprayAccounts)
          raise('password_spraying', 'high', `ip:${ipKey}`, {
            accounts: perIp.distinct,
            failures: perIp.size,
          });
      });
      judged(hits('login:all', ipKey, 1, true), (global) => {
        judged(hits('login:accounts', accountKey, 1, true), (all) => {
          if (global.distinct >= th.stuffingIps && all.distinct >= th.sprayAccounts)
            raise('credential_stuffing', 'high', 'global', { ips: global.distinct, accounts: all.distinct });
        });
      });
    },
    noteOtpFailure(staffId) {
      judged(hits(`otp:${staffId}`, '', 1, false), (list) => {
        if (list.size >= th.otpFailures)
          raise('otp_brute_force', 'high', `staff:${staffId}`, { failures: list.size });
      });
    },
    notePiiRead(staffId, count = 1) {
      judged(hits(`pii:${staffId}`, '', Math.max(1, count), false), (list) => {
        if (list.size >= th.piiReads)
          raise('bulk_pii_read', 'high', `staff:${staffId}`, {
            reads: list.size,
            windowMinutes: Math.round(th.windowMs / 60_000),
          });
      });
    },
    noteKeyRequest(keyId) {
      judged(
        () => counters.keyRequest(keyId, now()),
        ({ current, usual }) => {
          if (current >= th.keyRequests && (usual === 0 || current >= usual * th.keyFactor))
            raise('unusual_key_volume', 'medium', `source:${keyId}`, {
              requests: current,
              usual: Math.round(usual),
            });
        },
      );
    },
    notePublicRequest(ipKey) {
      judged(hits(`public:${ipKey}`, '', 1, false), (list) => {
        if (list.size >= th.scrapeRequests)
          raise('scraping', 'medium', `ip:${ipKey}`, { requests: list.size });
      });
    },
    async listAlerts(q) {
      let query = db
        .selectFrom('security_alerts')
        .selectAll()
        .orderBy('created_at', 'desc')
        .limit(Math.min(Math.max(q.limit ?? 100, 1), 500));
      if (q.since !== undefined) query = query.where('created_at', '>=', q.since);
      if (q.kind !== undefined) query = query.where('kind', '=', q.kind);
      return (await query.execute()).map((r) => ({
        id: r.id,
        kind: r.kind as AlertKind,
        severity: r.severity as 'medium' | 'high',
        subject: r.subject,
        details: JSON.parse(r.details) as Record<string, unknown>,
        createdAt: Number(r.created_at),
      }));
    },
    async flush() {
      // A judged count may raise an alert, whose claim may store one: wait until nothing is left.
      while (inflight.size > 0) await Promise.all(inflight);
      await pending;
    },
  };
}
