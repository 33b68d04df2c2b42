/**
 * Data-subject requests: creation with a jurisdiction clock, identity verification by one-time code, the
 * staff queue (which can never approve an unverified request), and hand-off to the export and erasure
 * flows, which the composition root provides.
 */
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { StateStore } from '../../storage/ports.ts';
import {
  createDsarStore,
  type DsarKind,
  type DsarRequest,
  type ErasureReceipt,
  type ErasureTarget,
} from './dsar.store.ts';
import { subjectIdsOf, type Subject } from './holder.ts';
import type { Jurisdiction } from './jurisdictions.ts';
import { isNoticeLocale, type NoticeLocale } from './notice.ts';
import { privacyDb } from './store.ts';
import type { ExportBundle } from './tar.ts';
import {
  CODE_MAX_ATTEMPTS,
  CODE_SENDS_PER_HOUR,
  CODE_TTL_MS,
  checkCode,
  codeHash,
  newCode,
} from './verification.ts';

/** What the privacy module records in the audit log (structurally the audit module's AuditWriter). */
export type AuditRecorder = {
  record(entry: {
    actor: string;
    action: string;
    target?: string | null;
    purpose?: string | null;
    outcome: 'success' | 'failure' | 'denied';
    details?: Record<string, string | number | boolean | null>;
  }): Promise<void>;
};

export type ErasureStatus = {
  requestId: string;
  status: 'processing' | 'completed';
  targets: ErasureTarget[];
  receipt: ErasureReceipt | null;
};

/** The dsar flows, wired by the composition root (modules cannot import flows). */
export type DsarRunners = {
  exportBundle(subject: Subject, requestId: string): Promise<ExportBundle>;
  /** Plans and runs an erasure for a verified request; returns when it is complete or stuck on a retryable target. */
  erase(requestId: string): Promise<ErasureStatus>;
};

/** Delivers a verification code to the subject through the shop's channel (e-mail, SMS). */
export type CodeSender = (delivery: {
  requestId: string;
  subject: Subject;
  code: string;
  expiresAt: number;
  /** The language the shopper made the request in. */
  locale: NoticeLocale;
  /**
   * The address a request by e-mail was made with. The sender may use it only where the shop holds that
   * address's keyed hash for the subject (a guest checkout's order) and no address in the vault.
   */
  requestedAddress?: string;
  /** false: no message could be addressed (no address on record for the subject); anything else: sent. */
}) => Promise<boolean | void>;

/** The answer when no channel can carry a code: says what the operator has to configure. */
export function noCodeChannel(): AppError {
  return new AppError(
    'unavailable',
    'This shop cannot send verification codes yet: its operator has to configure an e-mail relay ' +
      '(CANDOR_SMTP_URL, e.g. smtp://user:password@relay.example:587, and CANDOR_SMTP_FROM). Until then, sign in ' +
      'to the shop and use its privacy centre, or ask the shop to handle the request from its privacy queue.',
    { details: { reason: 'no_code_channel', configure: ['CANDOR_SMTP_URL', 'CANDOR_SMTP_FROM'] } },
  );
}

export type PrivacyServiceDeps = {
  state: StateStore;
  clock: Clock;
  logger: Logger;
  audit: AuditRecorder;
  runners: DsarRunners;
  sendCode: CodeSender | undefined;
  /** Finds the person behind an e-mail address (the PII vault's lookup hash), or null. */
  findSubjectByEmail(email: string): Promise<Subject | null>;
};

export type PrivacyServiceConfig = { codeSecret: string };

export type Actor =
  | { kind: 'shopper'; subjectId: string }
  | { kind: 'staff'; staffId: string }
  | { kind: 'cli' }
  | { kind: 'anonymous' };

const actorName = (a: Actor): string =>
  a.kind === 'staff'
    ? `staff:${a.staffId}`
    : a.kind === 'cli'
      ? 'system:cli'
      : a.kind === 'shopper'
        ? 'shopper'
        : 'anonymous';

export function createPrivacyService(deps: PrivacyServiceDeps, config: PrivacyServiceConfig) {
  const dsar = createDsarStore({ state: deps.state, clock: deps.clock });
  const db = privacyDb(deps.state);
  const now = () => deps.clock.now().getTime();

  // Audit entries name the request, never the subject: the chain is permanent and must not outlive an erasure.
  const audit = (
    actor: Actor,
    action: string,
    requestId: string,
    outcome: 'success' | 'failure' | 'denied',
    details: Record<string, string | number | boolean | null> = {},
  ) =>
    deps.audit.record({
      actor: actorName(actor),
      action,
      target: requestId,
      purpose: 'data_subject_rights',
      outcome,
      details,
    });

  /** Deliveries started for anonymous requests and not yet finished (awaited on shutdown). */
  const inFlight = new Set<Promise<void>>();

  /** Stores a fresh code's HMAC for the request (replacing an earlier code) and returns the code. */
  const storeCode = async (requestId: string): Promise<{ code: string; expiresAt: number }> => {
    const code = newCode();
    const expiresAt = now() + CODE_TTL_MS;
    const values = {
      code_hash: codeHash(config.codeSecret, requestId, code),
      expires_at: expiresAt,
      attempts: 0,
      max_attempts: CODE_MAX_ATTEMPTS,
      created_at: now(),
    };
    await db
      .insertInto('dsar_verifications')
      .values({ request_id: requestId, ...values })
      .onConflict((oc) => oc.column('request_id').doUpdateSet(values))
      .execute();
    return { code, expiresAt };
  };

  /** Codes sent to this person in the last hour by requests from the public form (the mailbox-flooding guard). */
  const recentCodeRequests = async (subject: Subject): Promise<number> => {
    const ids = subjectIdsOf(subject);
    if (ids.length === 0) return 0;
    const rows = await db
      .selectFrom('dsar_requests')
      .innerJoin('dsar_request_subjects', 'dsar_request_subjects.request_id', 'dsar_requests.id')
      .select('dsar_requests.id')
      .distinct()
      .where('dsar_request_subjects.subject_id', 'in', ids)
      .where('dsar_requests.channel', '=', 'code')
      .where('dsar_requests.received_at', '>', now() - 60 * 60 * 1000)
      .execute();
    return rows.length;
  };

  /** The request's language, as stored at creation. */
  const localeOf = (request: DsarRequest): NoticeLocale =>
    isNoticeLocale(request.locale) ? request.locale : 'en';

  const deliver = async (
    request: DsarRequest,
    subject: Subject,
    code: string,
    expiresAt: number,
    requestedAddress?: string,
  ) => {
    if (!deps.sendCode) throw noCodeChannel();
    return deps.sendCode({
      requestId: request.id,
      subject,
      code,
      expiresAt,
      locale: localeOf(request),
      ...(requestedAddress !== undefined ? { requestedAddress } : {}),
    });
  };

  /** A delivery failure as it may be logged and shown to staff: no address, no relay text. */
  const failureText = (e: unknown): string =>
    e instanceof Error && (e.name === 'MailError' || e.name === 'AppError')
      ? e.message.slice(0, 300)
      : `delivery failed (${e instanceof Error ? e.name : typeof e})`;

  /**
   * Sends a code without the caller waiting for it: the answer to the public form must not depend on
   * whether a message went out (its timing or a relay failure would tell who shops here). A failure is
   * logged without the address and noted on the request, so staff can resend from the queue.
   */
  const deliverInBackground = (...args: Parameters<typeof deliver>) => {
    const [request] = args;
    const p: Promise<void> = deliver(...args)
      .then(() => undefined)
      .catch(async (e: unknown) => {
        const reason = failureText(e);
        deps.logger.warn({ requestId: request.id, reason }, 'verification code not delivered');
        await dsar
          .setStatus(request.id, 'awaiting_verification', {
            note: `The verification code could not be sent (${reason}). Resend it from the privacy queue.`,
            // Staff may have rejected the request while the relay was failing: that decision stands.
            onlyIf: 'awaiting_verification',
          })
          .catch(() => undefined);
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  const runExport = async (request: DsarRequest, subject: Subject, actor: Actor): Promise<ExportBundle> => {
    await dsar.setStatus(request.id, 'processing');
    const bundle = await deps.runners.exportBundle(subject, request.id);
    await dsar.complete(request.id, null);
    await audit(actor, 'privacy.export', request.id, 'success', { subjects: subjectIdsOf(subject).length });
    return bundle;
  };

  const runErase = async (request: DsarRequest, actor: Actor): Promise<ErasureStatus> => {
    await dsar.setStatus(request.id, 'processing');
    await audit(actor, 'privacy.erase_started', request.id, 'success', {
      jurisdiction: request.jurisdiction,
    });
    const status = await deps.runners.erase(request.id);
    if (status.status === 'completed') {
      await audit(actor, 'privacy.erase_completed', request.id, 'success', {
        targets: status.targets.length,
      });
    }
    return status;
  };

  return {
    dsar,

    /** Self-service by a signed-in shopper (the shopper token is the identity proof): export at once. */
    async exportForShopper(
      subject: Subject,
      jurisdiction: Jurisdiction,
    ): Promise<{ requestId: string; bundle: ExportBundle }> {
      const request = await dsar.create({
        kind: 'export',
        jurisdiction,
        channel: 'self_service',
        subject,
        verifiedBy: 'shopper_token',
      });
      return {
        requestId: request.id,
        bundle: await runExport(request, subject, { kind: 'shopper', subjectId: '' }),
      };
    },

    /** Self-service erasure by a signed-in shopper: runs at once. */
    async eraseForShopper(subject: Subject, jurisdiction: Jurisdiction): Promise<ErasureStatus> {
      const request = await dsar.create({
        kind: 'erase',
        jurisdiction,
        channel: 'self_service',
        subject,
        verifiedBy: 'shopper_token',
      });
      return runErase(request, { kind: 'shopper', subjectId: '' });
    },

    /**
     * A signed-in shopper asks the shop to handle a request (the shopper token is the identity proof, so it
     * is queued as verified): the privacy officer approves it from the queue, an export is then delivered by
     * the shop and an erasure runs at approval.
     */
    async requestForShopper(
      subject: Subject,
      kind: DsarKind,
      jurisdiction: Jurisdiction,
    ): Promise<{ requestId: string; status: string }> {
      const request = await dsar.create({
        kind,
        jurisdiction,
        channel: 'self_service',
        subject,
        verifiedBy: 'shopper_token',
      });
      await audit({ kind: 'shopper', subjectId: '' }, 'privacy.request_created', request.id, 'success', {
        kind,
        jurisdiction,
      });
      return { requestId: request.id, status: request.status };
    },

    /** The operator at the CLI (who holds the data directory and its keys) runs a request directly. */
    async runAsOperator(
      kind: DsarKind,
      subject: Subject,
      jurisdiction: Jurisdiction,
    ): Promise<{ requestId: string; bundle?: ExportBundle; erasure?: ErasureStatus }> {
      const request = await dsar.create({
        kind,
        jurisdiction,
        channel: 'cli',
        subject,
        verifiedBy: 'operator',
      });
      if (kind === 'export')
        return { requestId: request.id, bundle: await runExport(request, subject, { kind: 'cli' }) };
      return { requestId: request.id, erasure: await runErase(request, { kind: 'cli' }) };
    },

    /**
     * A request by e-mail (privacy centre form or a staff member entering a mailed request). Answers the same
     * whether or not the address is known, so the endpoint cannot be used to test who shops here.
     */
    async requestByEmail(input: {
      email: string;
      kind: DsarKind;
      jurisdiction: Jurisdiction;
      actor: Actor;
      locale?: NoticeLocale;
    }): Promise<{ requestId: string }> {
      // Decided before the address is looked up, so a missing channel answers the same for every address.
      if (!deps.sendCode) throw noCodeChannel();
      const subject = await deps.findSubjectByEmail(input.email);
      const request = await dsar.create({
        kind: input.kind,
        jurisdiction: input.jurisdiction,
        channel: input.actor.kind === 'staff' ? 'staff' : 'code',
        subject: subject ?? { subjectIds: [] },
        locale: input.locale ?? 'en',
      });
      // An unknown address gets a code too, one that is never sent: wrong guesses then count, expire and
      // lock exactly as they do for a known address.
      const { code, expiresAt } = await storeCode(request.id);
      if (!subject) {
        await dsar.setStatus(request.id, 'awaiting_verification', { note: 'no matching shopper' });
      } else if (input.actor.kind === 'staff') {
        // Staff may learn that the address is known (they can look the shopper up), and should see a failure.
        try {
          await deliver(request, subject, code, expiresAt, input.email);
        } catch (e) {
          throw new AppError(
            'unavailable',
            `Request ${request.id} was recorded but its code could not be sent: ${failureText(e)} Resend it from the privacy queue once the relay works.`,
            { cause: e },
          );
        }
      } else if ((await recentCodeRequests(subject)) > CODE_SENDS_PER_HOUR) {
        // Someone is flooding this person's mailbox through the public form: the request stays (and is
        // answered as usual) but no more messages go out this hour.
        await dsar.setStatus(request.id, 'awaiting_verification', {
          note: `No code sent: more than ${CODE_SENDS_PER_HOUR} requests for this shopper in an hour.`,
        });
      } else {
        deliverInBackground(request, subject, code, expiresAt, input.email);
      }
      await audit(input.actor, 'privacy.request_created', request.id, 'success', {
        kind: input.kind,
        jurisdiction: input.jurisdiction,
      });
      return { requestId: request.id };
    },

    /** Waits for codes still being sent (shutdown, and tests that read the mailbox). */
    async settle(): Promise<void> {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },

    async resendCode(requestId: string, actor: Actor): Promise<void> {
      const request = await dsar.require(requestId);
      if (request.status !== 'awaiting_verification')
        throw new AppError('conflict', `Request ${requestId} is ${request.status}; it needs no code.`);
      if (!deps.sendCode) throw noCodeChannel();
      const subject = await dsar.subjectOf(requestId);
      const namesNoOne = !subject || subject.subjectIds.length === 0;
      // Staff may know what the public may not: that no code can reach anyone, rather than a "sent".
      if (namesNoOne && actor.kind === 'staff') {
        await audit(actor, 'privacy.code_resent', requestId, 'failure');
        throw new AppError(
          'conflict',
          `Request ${requestId} names no one this shop knows (no shopper has the address it gave), so no code can be sent. Reject it from the privacy queue, or ask the requester to check the address.`,
        );
      }
      // What a staff resend that reaches no one puts back, so the code the shopper already has keeps working.
      const previous =
        actor.kind === 'staff'
          ? await db
              .selectFrom('dsar_verifications')
              .selectAll()
              .where('request_id', '=', requestId)
              .executeTakeFirst()
          : undefined;
      // A new code also for a request that names no one, so the old one stops working in both cases and a
      // public resend answers the same either way.
      const { code, expiresAt } = await storeCode(requestId);
      if (subject && !namesNoOne) {
        let sent: boolean | void;
        try {
          sent = await deliver(request, subject, code, expiresAt);
        } catch (e) {
          await audit(actor, 'privacy.code_resent', requestId, 'failure');
          throw new AppError('unavailable', `The code could not be sent: ${failureText(e)}`, { cause: e });
        }
        // A guest checkout's address is known only from the request itself, which is not kept: the shopper's
        // own request reached it, a staff resend cannot.
        if (sent === false && actor.kind === 'staff') {
          if (previous) {
            const { request_id: _id, ...values } = previous;
            await db
              .updateTable('dsar_verifications')
              .set(values)
              .where('request_id', '=', requestId)
              .execute();
          } else {
            await db.deleteFrom('dsar_verifications').where('request_id', '=', requestId).execute();
          }
          await audit(actor, 'privacy.code_resent', requestId, 'failure');
          throw new AppError(
            'conflict',
            `No code was sent for request ${requestId}: the shop holds no address for this shopper (a guest checkout is known only by the address the request was made with, which is not kept). The code sent before still works; ask the requester to use it, or to make the request again.`,
          );
        }
      }
      await audit(actor, 'privacy.code_resent', requestId, 'success');
    },

    /** Checks a one-time code. Export requests are answered with the bundle at once; erasure requests wait for staff approval. */
    async verify(requestId: string, code: string): Promise<{ status: string; bundle?: ExportBundle }> {
      const request = await dsar.require(requestId);
      if (request.status !== 'awaiting_verification')
        throw new AppError('conflict', `Request ${requestId} is already ${request.status}.`);
      const row = await db
        .selectFrom('dsar_verifications')
        .selectAll()
        .where('request_id', '=', requestId)
        .executeTakeFirst();
      const subject = await dsar.subjectOf(requestId);
      const outcome = row
        ? checkCode(
            {
              hash: row.code_hash,
              expiresAt: Number(row.expires_at),
              attempts: Number(row.attempts),
              maxAttempts: Number(row.max_attempts),
            },
            config.codeSecret,
            requestId,
            code,
            now(),
          )
        : 'wrong';
      if (outcome !== 'ok' || !subject) {
        if (row)
          await db
            .updateTable('dsar_verifications')
            .set({ attempts: Number(row.attempts) + 1 })
            .where('request_id', '=', requestId)
            .execute();
        await audit({ kind: 'anonymous' }, 'privacy.verify', requestId, 'failure', { reason: outcome });
        const message =
          outcome === 'expired'
            ? 'This code has expired. Ask for a new one.'
            : outcome === 'locked'
              ? 'Too many wrong codes. Ask for a new one.'
              : 'That code is not right. Check the message we sent and try again.';
        throw new AppError(outcome === 'locked' ? 'rate_limited' : 'invalid_request', message);
      }
      await db.deleteFrom('dsar_verifications').where('request_id', '=', requestId).execute();
      await dsar.setStatus(requestId, 'verified', { verifiedBy: 'one_time_code' });
      await audit({ kind: 'anonymous' }, 'privacy.verify', requestId, 'success');
      if (request.kind === 'export') {
        const verified = await dsar.require(requestId);
        return { status: 'completed', bundle: await runExport(verified, subject, { kind: 'anonymous' }) };
      }
      return { status: 'verified' };
    },

    /** Staff approval of a queued erasure. Never for an unverified request. */
    async approve(
      requestId: string,
      staffId: string,
    ): Promise<ErasureStatus | { requestId: string; status: string; export?: Record<string, unknown> }> {
      const request = await dsar.require(requestId);
      const actor: Actor = { kind: 'staff', staffId };
      if (request.status === 'awaiting_verification' || request.verifiedAt === null) {
        await audit(actor, 'privacy.approve', requestId, 'denied', { reason: 'unverified' });
        throw new AppError(
          'precondition_failed',
          `Request ${requestId} has not been verified by the shopper; it cannot be approved until they enter their code.`,
        );
      }
      if (request.status === 'completed' || request.status === 'rejected') {
        throw new AppError('conflict', `Request ${requestId} is already ${request.status}.`);
      }
      await dsar.setStatus(requestId, request.status, { approvedBy: staffId });
      await audit(actor, 'privacy.approve', requestId, 'success');
      if (request.kind === 'erase') return runErase(request, actor);
      // A code-verified export was answered to the shopper at verification (and is completed, refused above).
      // A queued one is produced now, for the officer to deliver through the shop's own channel.
      const subject = await dsar.subjectOf(requestId);
      if (!subject || subject.subjectIds.length === 0)
        throw new AppError(
          'conflict',
          `Request ${requestId} names no shopper; reject it with a reason instead.`,
        );
      const bundle = await runExport(request, subject, actor);
      return { requestId, status: 'completed', export: bundle.document };
    },

    async reject(requestId: string, staffId: string, reason: string): Promise<void> {
      const request = await dsar.require(requestId);
      if (request.status === 'completed')
        throw new AppError('conflict', `Request ${requestId} is already completed.`);
      await deps.state.transaction(async (trx) => {
        const t = trx as typeof db;
        await t
          .updateTable('dsar_requests')
          .set({ status: 'rejected', note: reason.slice(0, 500), completed_at: now() })
          .where('id', '=', requestId)
          .execute();
        await t.deleteFrom('dsar_request_subjects').where('request_id', '=', requestId).execute();
        await t.deleteFrom('dsar_verifications').where('request_id', '=', requestId).execute();
      });
      await audit({ kind: 'staff', staffId }, 'privacy.reject', requestId, 'success');
    },

    /** Erasures that started and did not finish: run them to the end (start-up, and the retry job). */
    async resumeUnfinished(): Promise<ErasureStatus[]> {
      const out: ErasureStatus[] = [];
      for (const r of await dsar.unfinished()) {
        const status = await deps.runners.erase(r.id);
        if (status.status === 'completed')
          await audit({ kind: 'cli' }, 'privacy.erase_completed', r.id, 'success', { resumed: true });
        out.push(status);
      }
      return out;
    },
  };
}

export type PrivacyService = ReturnType<typeof createPrivacyService>;
