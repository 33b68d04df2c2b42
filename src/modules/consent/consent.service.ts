/**
 * The consent ledger service: records decisions (append-only), publishes versioned notices, answers
 * "was purpose P granted for these subjects at time T, and by which record", and honours GPC.
 * The derived state is cached per subject in memory (LRU) and invalidated on every append. When several
 * processes share the state store (PostgreSQL), each append also sends a change notice in its transaction,
 * and every process drops the subjects it names; a process trusts its cache only while it is listening.
 * Notices arrive a little after the commit, and not at the same moment in every process, so a caller that
 * must see every decision already answered elsewhere (ingestion, once per request) first calls `sync()`.
 */
import type { Clock } from '../../kernel/clock.ts';
import { canonicalJson, sha256Hex, type Pseudonymizer } from '../../kernel/crypto.ts';
import { AppError } from '../../kernel/errors.ts';
import { uuidv7 } from '../../kernel/ids.ts';
import type { Kysely } from 'kysely';
import type { StateStore } from '../../storage/ports.ts';
import {
  compareRecords,
  currentState,
  gpcPurposesToRecord,
  mergeLedgers,
  stateAt,
  type ConsentRecord,
  type PurposeState,
} from './ledger.ts';
import { PURPOSES, SUBJECT_NAMESPACE, type ConsentMethod, type Purpose } from './purposes.ts';
import { computeConsentStats, type ConsentStats } from './stats.ts';
import { createConsentStore, type Notice } from './store.ts';

/** The audit log's writer, as the audit module provides it (details are small non-personal scalars). */
export type AuditEntry = {
  action: string;
  actor: string;
  target: string;
  purpose?: string;
  outcome: 'success' | 'failure' | 'denied';
  details?: Record<string, string | number | boolean | null>;
};

export type ConsentDeps = {
  state: StateStore;
  clock: Clock;
  pseudonymize: Pseudonymizer;
  audit: { record: (entry: AuditEntry) => Promise<void> };
  /** Told (synchronously, never awaited) whose decisions were just recorded, e.g. so segments follow. */
  onDecision?: (subjectIds: readonly string[]) => void;
};

export type ConsentServiceConfig = {
  /** How many subjects' ledgers the in-memory cache keeps. */
  cacheSubjects?: number;
};

export type RecordDecisionInput = {
  subjectIds: readonly string[];
  purposes: Partial<Record<Purpose, boolean>>;
  noticeVersion: string;
  method: Exclude<ConsentMethod, 'gpc'>;
  locale: string | null;
  channel: string | null;
  /** Who made the change, for the audit log (e.g. `source:src_…`, `shopper`, `import`). */
  actor: string;
  /**
   * When the decision was made, for trusted in-process callers recording history (imports, the demo shop);
   * default now. Still placed after every earlier decision of the subjects, so it never rewrites the past.
   */
  decidedAt?: number;
};

export type ConsentHistory = {
  records: ConsentRecord[];
  current: Record<Purpose, PurposeState>;
};

/** The notice published when a shop has published none yet, so the SDK works on a fresh install. */
export const DEFAULT_NOTICE_VERSION = '1';
export const DEFAULT_NOTICE_TEXTS: Record<string, string> = {
  en: 'We use your data only for the purposes you allow: analytics to improve the shop, personalization of recommendations, marketing by e-mail or push, advertising with partners, and sale of data. You can change or withdraw your choice at any time in the privacy centre.',
  id: 'Kami hanya menggunakan data Anda untuk tujuan yang Anda izinkan: analitik untuk meningkatkan toko, personalisasi rekomendasi, pemasaran melalui e-mail atau notifikasi, iklan dengan mitra, dan penjualan data. Anda dapat mengubah atau menarik pilihan Anda kapan saja di pusat privasi.',
  zh: '我们只在您允许的目的范围内使用您的数据：用于改进商店的分析、个性化推荐、电子邮件或推送营销、与合作伙伴的广告以及数据出售。您可以随时在隐私中心更改或撤回您的选择。',
};

/** Hashes of a notice: SHA-256 of each language's text, and of the whole notice (canonical JSON). */
export function hashNotice(texts: Record<string, string>): { hashes: Record<string, string>; hash: string } {
  const hashes: Record<string, string> = {};
  for (const [lang, text] of Object.entries(texts)) hashes[lang] = sha256Hex(text);
  return { hashes, hash: sha256Hex(canonicalJson(texts)) };
}

/** Pseudonymous subject ids for a customer id and/or a device id (customer first). */
export function subjectIdsFor(
  pseudonymize: Pseudonymizer,
  ids: { userId?: string | null | undefined; anonymousId?: string | null | undefined },
): string[] {
  const out: string[] = [];
  if (ids.userId) out.push(pseudonymize(SUBJECT_NAMESPACE.user, ids.userId));
  if (ids.anonymousId) out.push(pseudonymize(SUBJECT_NAMESPACE.device, ids.anonymousId));
  return out;
}

export type ConsentService = ReturnType<typeof createConsentService>;

/** The change-notice channel of the ledger between processes sharing the state store. */
export const CONSENT_CHANGES_CHANNEL = 'consent.ledger';
/** Above this, a notice says "forget everything" instead of naming subjects (bulk imports). */
const NOTICE_SUBJECT_BYTES = 6_000;
/** How long `sync()` waits for its marker to come back before it stops trusting the cache altogether. */
const SYNC_WAIT_MS = 2_000;

export function createConsentService(deps: ConsentDeps, config: ConsentServiceConfig = {}) {
  const store = createConsentStore(deps.state);
  const capacity = Math.max(1, config.cacheSubjects ?? 100_000);
  // Map iteration order is insertion order: re-inserting on hit makes the first key the least recently used.
  const cache = new Map<string, ConsentRecord[]>();
  // Bumped on every append; a read that raced an append does not refill the cache with what it read.
  let generation = 0;
  // Decisions are written one at a time so `supersedes` and the per-subject order are never interleaved.
  let writeChain: Promise<unknown> = Promise.resolve();
  // Alone on the store, every write goes through this process. Sharing it, the cache is only as good as
  // the notices: trusted while listening, bypassed (read through) before and whenever the connection is lost.
  const notices = deps.state.notices;
  let trusted = notices === undefined;
  let listeners: { stop(): Promise<void> }[] = [];
  // This process's own channel for sync markers (see `sync`).
  const syncChannel = `${CONSENT_CHANGES_CHANNEL}.sync.${uuidv7()}`;
  const markers = new Map<string, () => void>();
  let syncing: Promise<void> | null = null;
  let syncQueued: Promise<void> | null = null;

  function forget(subjects: readonly string[] | 'all'): void {
    generation++;
    if (subjects === 'all') cache.clear();
    else for (const s of subjects) cache.delete(s);
  }

  function onNotice(payload: string): void {
    forget(payload === '*' ? 'all' : payload.split(','));
  }

  /** Runs a ledger write whose transaction also carries the change notice for `subjects`. */
  function announced<T>(
    subjects: readonly string[] | 'all',
    write: (alsoInTransaction?: (trx: Kysely<unknown>) => Promise<void>) => Promise<T>,
  ): Promise<T> {
    if (!notices) return write();
    const joined = subjects === 'all' ? '*' : subjects.join(',');
    const body = Buffer.byteLength(joined) > NOTICE_SUBJECT_BYTES ? '*' : joined;
    return write((trx) => notices.notify(trx, CONSENT_CHANGES_CHANNEL, body));
  }

  /**
   * One sync: commits a marker on this process's own channel and waits for it to arrive. PostgreSQL delivers
   * notices to a listener in commit order, across channels, so by then every change notice committed before
   * the marker has been applied to this cache.
   */
  async function syncOnce(): Promise<void> {
    if (!notices || !trusted) return;
    const nonce = uuidv7();
    const arrived = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), SYNC_WAIT_MS);
      timer.unref();
      markers.set(nonce, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    try {
      await notices.notify(deps.state.db, syncChannel, nonce);
      // Not back in time: the listener may be stuck; read through until it reports again.
      if (!(await arrived)) forget('all');
    } finally {
      markers.delete(nonce);
    }
  }

  const serialised = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = writeChain.then(fn, fn);
    writeChain = run.catch(() => undefined);
    return run;
  };

  async function ledgerOf(subjectIds: readonly string[]): Promise<ConsentRecord[]> {
    const unique = [...new Set(subjectIds)];
    if (!trusted) return mergeLedgers([await store.recordsOf(unique)]);
    const missing = unique.filter((s) => !cache.has(s));
    if (missing.length > 0) {
      const gen = generation;
      const rows = await store.recordsOf(missing);
      if (gen === generation) {
        const fresh = new Map<string, ConsentRecord[]>(missing.map((s) => [s, []]));
        for (const r of rows) for (const s of r.subjectIds) fresh.get(s)?.push(r);
        for (const [s, ledger] of fresh) cache.set(s, ledger);
        for (const s of missing) cache.get(s)!.sort(compareRecords);
        while (cache.size > capacity) cache.delete(cache.keys().next().value!);
      } else {
        return mergeLedgers([rows, ...unique.filter((s) => cache.has(s)).map((s) => cache.get(s)!)]);
      }
    }
    const parts: ConsentRecord[][] = [];
    for (const s of unique) {
      const ledger = cache.get(s)!;
      cache.delete(s);
      cache.set(s, ledger);
      parts.push(ledger);
    }
    return mergeLedgers(parts);
  }

  /**
   * A new decision for these subjects, made from their ledger as the store holds it at the moment of
   * writing (see `ConsentStore.appendAfter`): after every decision any process has recorded, superseding
   * the last of them. `build` returns null when there is nothing to record.
   */
  async function decide(
    subjectIds: readonly string[],
    build: (ledger: readonly ConsentRecord[]) => ConsentRecord | null,
  ): Promise<ConsentRecord | null> {
    const subjects = [...new Set(subjectIds)];
    forget(subjects);
    const record = await announced(subjects, (also) => store.appendAfter(subjects, build, also));
    forget(subjects);
    if (record !== null) deps.onDecision?.(subjects);
    return record;
  }

  /** A decision time after every earlier decision of these subjects, so ledger order is never ambiguous. */
  function decisionTime(ledger: readonly ConsentRecord[], at?: number): number {
    const now = at ?? deps.clock.now().getTime();
    const last = ledger.at(-1)?.decidedAt ?? Number.NEGATIVE_INFINITY;
    return Math.max(now, last + 1);
  }

  async function audit(record: ConsentRecord, actor: string): Promise<void> {
    await deps.audit.record({
      action: record.method === 'gpc' ? 'consent.gpc_opt_out' : 'consent.decision',
      actor,
      // The audit chain is permanent: name the ledger record (erased with the subject), never the pseudonym.
      target: `consent:${record.consentId}`,
      outcome: 'success',
      details: {
        consentId: record.consentId,
        method: record.method,
        purposes: Object.entries(record.purposes)
          .map(([p, v]) => `${p}=${v ? 'granted' : 'refused'}`)
          .join(','),
        noticeVersion: record.noticeVersion,
        subjects: record.subjectIds.length,
      },
    });
  }

  async function gpcLocked(
    subjectIds: readonly string[],
    channel: string | null,
    actor: string,
    at: number | undefined,
  ) {
    const record = await decide(subjectIds, (ledger) => {
      const purposes = gpcPurposesToRecord(ledger);
      if (purposes.length === 0) return null;
      const decidedAt = decisionTime(ledger, at);
      return {
        consentId: uuidv7(decidedAt),
        subjectIds: [...subjectIds],
        purposes: Object.fromEntries(purposes.map((p) => [p, false])),
        noticeVersion: null,
        noticeHash: null,
        method: 'gpc',
        locale: null,
        channel,
        decidedAt,
        supersedes: ledger.at(-1)?.consentId ?? null,
      };
    });
    if (record !== null) await audit(record, actor);
    return record;
  }

  const service = {
    async start(): Promise<void> {
      if (notices && listeners.length === 0) {
        listeners = [
          await notices.listen(syncChannel, {
            onNotice: (nonce) => markers.get(nonce)?.(),
            onListening: () => {},
          }),
          await notices.listen(CONSENT_CHANGES_CHANNEL, {
            onNotice,
            // Notices may have been missed while not listening: start from an empty cache either way.
            onListening: (listening) => {
              forget('all');
              trusted = listening;
            },
          }),
        ];
      }
      if ((await store.currentNotice()) === null) {
        await service.publishNotice(DEFAULT_NOTICE_VERSION, DEFAULT_NOTICE_TEXTS, 'system');
      }
    },

    /** Publishes a notice version. Versions are immutable: the ledger points at their hash. */
    async publishNotice(
      version: string,
      texts: Record<string, string>,
      actor: string,
    ): Promise<{ notice: Notice; created: boolean }> {
      const { hashes, hash } = hashNotice(texts);
      const existingOrNull = async () => {
        const existing = await store.getNotice(version);
        if (!existing) return null;
        if (existing.hash === hash) return { notice: existing, created: false };
        throw new AppError(
          'conflict',
          `Notice version ${version} is already published with a different text; publish the new text under a new version.`,
        );
      };
      const found = await existingOrNull();
      if (found) return found;
      const notice: Notice = { version, texts, hashes, hash, publishedAt: deps.clock.now().getTime() };
      // Lost a race with another process publishing the same version: judge against what it stored.
      if (!(await store.insertNotice(notice))) return (await existingOrNull()) ?? { notice, created: false };
      await deps.audit.record({
        action: 'consent.notice_published',
        actor,
        target: `notice:${version}`,
        outcome: 'success',
        details: { version, hash, languages: Object.keys(texts).join(',') },
      });
      return { notice, created: true };
    },

    currentNotice: () => store.currentNotice(),
    getNotice: (version: string) => store.getNotice(version),

    /** Appends one decision. Purposes not named keep their previous state. */
    async record(input: RecordDecisionInput): Promise<ConsentRecord> {
      if (input.subjectIds.length === 0) {
        throw new AppError('invalid_request', 'Name the shopper: send userId or anonymousId.');
      }
      const notice = await store.getNotice(input.noticeVersion);
      if (!notice) {
        throw new AppError(
          'unprocessable',
          `Notice version ${input.noticeVersion} is not published. Send the version the shopper saw (GET /v1/consent/notices/current), or publish it first.`,
        );
      }
      const purposes: Partial<Record<Purpose, boolean>> = {};
      for (const p of PURPOSES) {
        const v = input.purposes[p];
        if (p !== 'necessary' && typeof v === 'boolean') purposes[p] = v;
      }
      return serialised(async () => {
        // Placed after every decision already made, in whichever process it was made.
        const record = await decide(input.subjectIds, (ledger) => {
          const decidedAt = decisionTime(ledger, input.decidedAt);
          return {
            consentId: uuidv7(decidedAt),
            subjectIds: [...new Set(input.subjectIds)],
            purposes,
            noticeVersion: notice.version,
            noticeHash: notice.hash,
            method: input.method,
            locale: input.locale,
            channel: input.channel,
            decidedAt,
            supersedes: ledger.at(-1)?.consentId ?? null,
          };
        });
        // `build` above always makes a record.
        await audit(record!, input.actor);
        return record!;
      });
    },

    /**
     * A Global Privacy Control signal for these subjects: records an opt-out of advertising and sale
     * (method `gpc`) unless already refused or overridden by a later explicit choice. Returns the record, if any.
     */
    async signalGpc(
      subjectIds: readonly string[],
      options: { channel: string | null; actor: string; at?: number },
    ): Promise<ConsentRecord | null> {
      if (subjectIds.length === 0) return null;
      // Fast path without the write lock: most signals find nothing to record.
      if (gpcPurposesToRecord(await ledgerOf(subjectIds)).length === 0) return null;
      return serialised(() =>
        gpcLocked([...new Set(subjectIds)], options.channel, options.actor, options.at),
      );
    },

    /** Consent for `purpose` at time `ts` across linked subjects: the latest decision at or before `ts`. */
    async stateAt(subjectIds: readonly string[], purpose: Purpose, ts: number): Promise<PurposeState> {
      return (
        service.cachedStateAt(subjectIds, purpose, ts) ?? stateAt(await ledgerOf(subjectIds), purpose, ts)
      );
    },

    /**
     * `stateAt` when one subject's ledger is cached and the cache is trusted (undefined otherwise): the hot
     * path of ingestion, every event of an anonymous shopper, answered without a promise per event.
     */
    cachedStateAt(subjectIds: readonly string[], purpose: Purpose, ts: number): PurposeState | undefined {
      const only = subjectIds.length === 1 ? subjectIds[0]! : undefined;
      const cached = only === undefined || !trusted ? undefined : cache.get(only);
      if (cached === undefined) return undefined;
      cache.delete(only!);
      cache.set(only!, cached);
      return stateAt(cached, purpose, ts);
    },

    async history(subjectIds: readonly string[]): Promise<ConsentHistory> {
      await service.sync();
      const records = await ledgerOf(subjectIds);
      return { records, current: currentState(records) };
    },

    /** Aggregate statistics over the ledger (k-anonymous groups only; see stats.ts). */
    async stats(options: {
      fromMs: number;
      toMs: number;
      period: 'day' | 'week';
      kAnonymity: number;
    }): Promise<ConsentStats> {
      return computeConsentStats(store.statRecordsBefore(options.toMs), options);
    },

    /** Erasure: deletes every decision about these subjects (the only delete the ledger allows). */
    async eraseSubjects(subjectIds: readonly string[]): Promise<number> {
      return serialised(async () => {
        forget(subjectIds);
        // Decisions naming linked subjects go too: every process forgets everything it cached.
        const n = await announced('all', (also) => store.eraseSubjects(subjectIds, also));
        forget('all');
        return n;
      });
    },

    /**
     * Makes every decision committed by any process before this call visible to the next reads here. A no-op
     * when this process owns the store. Concurrent callers share one round trip; a caller that arrives while
     * one is under way waits for the next, which starts after it arrived.
     */
    sync(): Promise<void> {
      if (!notices || !trusted) return Promise.resolve();
      if (syncing === null) {
        syncing = syncOnce().finally(() => {
          syncing = null;
        });
        return syncing;
      }
      syncQueued ??= syncing
        .catch(() => undefined)
        .then(() => {
          syncQueued = null;
          return service.sync();
        });
      return syncQueued;
    },

    /** Stops listening for other processes' changes (graceful shutdown). */
    async stop(): Promise<void> {
      const ls = listeners;
      listeners = [];
      trusted = notices === undefined;
      for (const l of ls) await l.stop();
    },
  };
  return service;
}
