/**
 * Detection of suspicious activity. Sliding-window counters in this process notice password spraying
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
import { createHitWindow, type HitWindow } from './hit-window.ts';
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
  deps: { state: StateStore; clock: Clock; logger: Logger; audit: AuditWriter },
  thresholds: Partial<AbuseThresholds> = {},
): AbuseDetector {
  const th = { ...DEFAULT_THRESHOLDS, ...thresholds };
  const db = authDb(deps.state);
  const now = () => deps.clock.now().getTime();
  const windows = new Map<string, HitWindow>();
  const raised = new Map<string, number>();
  const keyBaseline = new Map<
    string,
    { windows: number; total: number; windowStart: number; current: number }
  >();
  let pending: Promise<unknown> = Promise.resolve();

  const MAX_WINDOWS = 50_000;
  const MAX_HITS = 10_000;
  function hits(name: string, value = '', count = 1): HitWindow {
    let list = windows.get(name);
    if (!list) {
      list = createHitWindow(th.windowMs, MAX_HITS);
      if (windows.size >= MAX_WINDOWS) {
        const oldest = windows.keys().next().value;
        if (oldest !== undefined) windows.delete(oldest);
      }
      windows.set(name, list);
    }
    list.add(now(), value, count);
    return list;
  }

  function raise(
    kind: AlertKind,
    severity: 'medium' | 'high',
    subject: string,
    details: Record<string, string | number>,
  ): void {
    const key = `${kind}:${subject}`;
    const t = now();
    const last = raised.get(key);
    if (last !== undefined && t - last < th.coolDownMs) return;
    raised.set(key, t);
    const alert = { id: newId('alr'), kind, severity, subject, details, createdAt: t };
    pending = pending
      .then(async () => {
        await db
          .insertInto('security_alerts')
          .values({ id: alert.id, kind, severity, subject, details: canonicalJson(details), created_at: t })
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
      const perIp = hits(`login:ip:${ipKey}`, accountKey);
      const accounts = perIp.distinct();
      if (accounts >= th.sprayAccounts) {
        raise('password_spraying', 'high', `ip:${ipKey}`, { accounts, failures: perIp.size });
      }
      const global = hits('login:all', ipKey);
      const ips = global.distinct();
      if (ips >= th.stuffingIps) {
        const accountsAll = hits('login:accounts', accountKey).distinct();
        if (accountsAll >= th.sprayAccounts)
          raise('credential_stuffing', 'high', 'global', { ips, accounts: accountsAll });
      } else {
        hits('login:accounts', accountKey);
      }
    },
    noteOtpFailure(staffId) {
      const list = hits(`otp:${staffId}`);
      if (list.size >= th.otpFailures)
        raise('otp_brute_force', 'high', `staff:${staffId}`, { failures: list.size });
    },
    notePiiRead(staffId, count = 1) {
      const list = hits(`pii:${staffId}`, '', Math.max(1, count));
      if (list.size >= th.piiReads)
        raise('bulk_pii_read', 'high', `staff:${staffId}`, {
          reads: list.size,
          windowMinutes: Math.round(th.windowMs / 60_000),
        });
    },
    noteKeyRequest(keyId) {
      const t = now();
      let b = keyBaseline.get(keyId);
      if (!b) {
        b = { windows: 0, total: 0, windowStart: t, current: 0 };
        keyBaseline.set(keyId, b);
      }
      if (t - b.windowStart >= th.windowMs) {
        b.windows += 1;
        b.total += b.current;
        b.current = 0;
        b.windowStart = t;
      }
      b.current += 1;
      const usual = b.windows > 0 ? b.total / b.windows : 0;
      if (b.current >= th.keyRequests && (usual === 0 || b.current >= usual * th.keyFactor)) {
        raise('unusual_key_volume', 'medium', `source:${keyId}`, {
          requests: b.current,
          usual: Math.round(usual),
        });
      }
    },
    notePublicRequest(ipKey) {
      const list = hits(`public:${ipKey}`);
      if (list.size >= th.scrapeRequests) raise('scraping', 'medium', `ip:${ipKey}`, { requests: list.size });
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
      await pending;
    },
  };
}
