/**
 * Consent behaviour every state store must show (SQLite in consent.contract.test.ts, PostgreSQL in
 * consent.server.test.ts), through the HTTP API and the reader ingestion gates events with: the append-only
 * ledger, current state and history, judgement at event time, GPC, and a cache that never answers with a
 * decision that has been superseded. When the store is shared by several processes (PostgreSQL), a second
 * instance of the module over the same store plays the second process: what one records, the other must
 * enforce for the very next event.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../kernel/clock.ts';
import { createPseudonymizer } from '../../kernel/crypto.ts';
import { AppError, errorBody, isAppError, statusOf } from '../../kernel/errors.ts';
import type { AppEnv, Guards } from '../../kernel/http.ts';
import type { StateStore } from '../../storage/ports.ts';
import { createConsentModule, type ConsentModule } from './consent.module.ts';
import type { AuditEntry } from './consent.service.ts';

export const WRITE_KEY = 'wk_contract';

/**
 * The time of the shopper's next event. A decision made within the same millisecond as the previous one is
 * placed 1 ms after it, so "next" is a few milliseconds on.
 */
const nextEventTime = () => Date.now() + 20;

function headerGuards(subjectOfUser: (u: string) => string): Guards {
  const staff =
    (permission: string): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      const perms = c.req.header('x-test-perms');
      if (perms === undefined) throw new AppError('unauthorized', 'Sign in first.');
      if (!perms.split(',').includes(permission)) throw new AppError('forbidden', `Missing ${permission}.`);
      c.set('principal', {
        kind: 'staff',
        staffId: 'stf_test',
        role: 'owner',
        sessionId: null,
        apiKeyId: null,
      });
      await next();
    };
  const shopper: MiddlewareHandler<AppEnv> = async (c, next) => {
    const user = c.req.header('x-test-shopper');
    if (!user) throw new AppError('unauthorized', 'Send a shopper token.');
    c.set('principal', { kind: 'shopper', userId: user, subjectId: subjectOfUser(user) });
    await next();
  };
  const writeKey: MiddlewareHandler<AppEnv> = async (c, next) => {
    c.set('principal', { kind: 'source', sourceId: 'src_test' });
    await next();
  };
  return { staff, shopper, writeKey };
}

/** One process's consent module over `state`, mounted on a Hono app. */
export type ConsentProcess = {
  consent: ConsentModule;
  audit: AuditEntry[];
  request(
    path: string,
    init?: { method?: string; body?: unknown; shopper?: string; gpc?: boolean; perms?: string },
  ): Promise<Response>;
  /** What ingestion asks before storing an analytics event of these ids at `ts` (default: the next event). */
  analyticsAt(ids: { userId?: string; anonymousId?: string }, ts?: number): Promise<boolean>;
  close(): Promise<void>;
};

export async function openConsentProcess(state: StateStore): Promise<ConsentProcess> {
  // The system clock, as in production: each decision is placed after the subject's previous one.
  const clock = systemClock;
  const pseudonymize = createPseudonymizer(Buffer.alloc(32, 7).toString('base64'));
  const audit: AuditEntry[] = [];
  const consent = createConsentModule({
    state,
    clock,
    pseudonymize,
    audit: {
      record: async (e) => {
        audit.push(e);
      },
    },
    guards: headerGuards((u) => pseudonymize('user', u)),
    authenticateWriteKey: async (key) => (key === WRITE_KEY ? { sourceId: 'src_test' } : null),
  });
  await state.migrate(consent.migrations ?? {});
  await consent.start?.();
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new AppError(
          'invalid_request',
          `Invalid ${result.target}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      }
    },
  });
  app.use('*', async (c, next) => {
    c.set('requestId', 'req_test');
    await next();
  });
  app.onError((e, c) => {
    const err = isAppError(e)
      ? e
      : e instanceof HTTPException && e.status === 400
        ? new AppError('invalid_json', 'The request body is not valid JSON.')
        : new AppError('internal', 'Something went wrong on our side.');
    return c.json(errorBody(err, 'req_test'), statusOf(err.code) as 400);
  });
  consent.routes?.(app);
  const ids = (who: { userId?: string; anonymousId?: string }) => [
    ...(who.userId ? [pseudonymize('user', who.userId)] : []),
    ...(who.anonymousId ? [pseudonymize('device', who.anonymousId)] : []),
  ];
  return {
    consent,
    audit,
    request: async (path, init = {}) => {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
      };
      if (init.shopper !== undefined) {
        headers['x-test-shopper'] = init.shopper;
        delete headers.authorization;
      }
      if (init.perms !== undefined) headers['x-test-perms'] = init.perms;
      if (init.gpc) headers['sec-gpc'] = '1';
      const body = init.body === undefined ? undefined : JSON.stringify(init.body);
      return app.request(path, {
        method: init.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        ...(body === undefined ? {} : { body }),
      });
    },
    // As ingestion does: one sync per request, then the (cached) state per event.
    analyticsAt: async (who, ts) => {
      await consent.reader.sync();
      return (await consent.reader.stateAt(ids(who), 'analytics', ts ?? nextEventTime())).granted;
    },
    close: async () => {
      await consent.stop?.();
    },
  };
}

export type ConsentStoreFixture = {
  state: StateStore;
  /** A second connection to the same store, as another process has (only where stores can be shared). */
  openPeer?: () => Promise<StateStore>;
  cleanup(): Promise<void>;
};

type MeConsent = {
  current: Record<string, { granted: boolean; consentId: string | null; method: string | null }>;
  history: {
    consentId: string;
    purposes: Record<string, boolean>;
    method: string;
    supersedes: string | null;
  }[];
};

export function consentContract(
  name: string,
  open: () => Promise<ConsentStoreFixture>,
  options: { sharedStore: boolean },
): void {
  describe(`consent ledger (${name})`, () => {
    let fx: ConsentStoreFixture;
    let a: ConsentProcess;
    const peers: { state: StateStore; proc: ConsentProcess }[] = [];
    beforeEach(async () => {
      fx = await open();
      a = await openConsentProcess(fx.state);
    });
    afterEach(async () => {
      for (const p of peers.splice(0)) {
        await p.proc.close();
        await p.state.close();
      }
      await a.close();
      await fx.cleanup();
    });

    const decide = (p: ConsentProcess, body: Record<string, unknown>, gpc = false) =>
      p.request('/v1/consent', { body: { noticeVersion: '1', ...body }, gpc });
    const me = async (p: ConsentProcess, user: string) =>
      (await (await p.request('/v1/me/consent', { shopper: user })).json()) as MeConsent;

    it('appends decisions, never rewrites them, and derives the current state with its legal basis', async () => {
      const first = await decide(a, { userId: 'c1', purposes: { analytics: true, personalization: true } });
      expect(first.status).toBe(201);
      const { consentId } = (await first.json()) as { consentId: string };
      const second = await decide(a, { userId: 'c1', purposes: { personalization: false } });
      expect(second.status).toBe(201);

      const doc = await me(a, 'c1');
      expect(doc.history).toHaveLength(2);
      expect(doc.history[0]).toMatchObject({
        consentId,
        purposes: { analytics: true, personalization: true },
      });
      expect(doc.history[1]).toMatchObject({ supersedes: consentId, purposes: { personalization: false } });
      expect(doc.current.analytics).toMatchObject({ granted: true, consentId, method: 'banner' });
      expect(doc.current.personalization).toMatchObject({ granted: false });
      expect(doc.current.marketing_email).toMatchObject({ granted: false, consentId: null });
      expect(doc.current.necessary).toMatchObject({
        granted: true,
        legalBasis: 'contract_or_legal_obligation',
      });
      expect(a.audit.filter((e) => e.action === 'consent.decision')).toHaveLength(2);
    });

    it('judges consent at event time, across the customer and device ids of one shopper', async () => {
      expect(await a.analyticsAt({ anonymousId: 'd1' })).toBe(false);
      await decide(a, { userId: 'c2', anonymousId: 'd2', purposes: { analytics: true } });
      expect(await a.analyticsAt({ anonymousId: 'd2' })).toBe(true);
      expect(await a.analyticsAt({ userId: 'c2' })).toBe(true);
      // An event timed before the decision is judged by the state then: nothing was granted.
      expect(await a.analyticsAt({ userId: 'c2' }, Date.now() - 60_000)).toBe(false);
      await decide(a, { anonymousId: 'd2', purposes: { analytics: false } });
      expect(await a.analyticsAt({ userId: 'c2', anonymousId: 'd2' })).toBe(false);
    });

    it('records GPC as an opt-out of advertising and sale once; a later explicit choice wins', async () => {
      const gpc = await decide(a, { anonymousId: 'g1', purposes: { analytics: true } }, true);
      expect(gpc.status).toBe(201);
      expect(await gpc.json()).toHaveProperty('gpcConsentId');
      const again = await decide(a, { anonymousId: 'g1', purposes: { analytics: true } }, true);
      expect(await again.json()).not.toHaveProperty('gpcConsentId');
      const reader = a.consent.reader;
      const id = [createPseudonymizer(Buffer.alloc(32, 7).toString('base64'))('device', 'g1')];
      expect((await reader.stateAt(id, 'advertising', nextEventTime())).method).toBe('gpc');
      expect((await reader.stateAt(id, 'sale', nextEventTime())).granted).toBe(false);
      await decide(a, { anonymousId: 'g1', purposes: { advertising: true } }, true);
      expect((await reader.stateAt(id, 'advertising', nextEventTime())).granted).toBe(true);
    });

    it('answers bad decisions with 4xx and a code, and records nothing', async () => {
      const unknownNotice = await decide(a, {
        userId: 'c3',
        purposes: { analytics: true },
        noticeVersion: '99',
      });
      expect(unknownNotice.status).toBe(422);
      const badPurpose = await decide(a, { userId: 'c3', purposes: { analytics: 'yes' } });
      expect(badPurpose.status).toBe(400);
      expect(((await badPurpose.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
      const nobody = await decide(a, { purposes: { analytics: true } });
      expect(nobody.status).toBe(400);
      expect((await me(a, 'c3')).history).toHaveLength(0);
    });

    it('never answers from a superseded cache entry in its own process', async () => {
      for (let i = 0; i < 10; i++) {
        const on = i % 2 === 0;
        await decide(a, { anonymousId: 'flip', purposes: { analytics: on } });
        expect({ i, granted: await a.analyticsAt({ anonymousId: 'flip' }) }).toEqual({ i, granted: on });
      }
    });

    it('erasure removes every decision of the shopper and the cached state with it', async () => {
      await decide(a, { userId: 'c4', anonymousId: 'd4', purposes: { analytics: true } });
      expect(await a.analyticsAt({ anonymousId: 'd4' })).toBe(true);
      const pseudo = createPseudonymizer(Buffer.alloc(32, 7).toString('base64'));
      expect(await a.consent.service.eraseSubjects([pseudo('user', 'c4')])).toBe(1);
      expect(await a.analyticsAt({ anonymousId: 'd4' })).toBe(false);
      expect((await me(a, 'c4')).history).toHaveLength(0);
    });

    // SQLite belongs to one process (the server), so only a shared store has a second process to test.
    if (!options.sharedStore) return;
    describe('two processes sharing the store', () => {
      const peer = async () => {
        if (!fx.openPeer) throw new Error('A shared store fixture must open a peer connection.');
        const state = await fx.openPeer();
        const proc = await openConsentProcess(state);
        peers.push({ state, proc });
        return proc;
      };

      it('a decision recorded by one process is enforced by the other for the next event', async () => {
        const b = await peer();
        for (let i = 0; i < 20; i++) {
          const on = i % 2 === 0;
          // B has the subject cached from the previous round; A records the change; B judges at once.
          expect((await decide(a, { anonymousId: 'x', purposes: { analytics: on } })).status).toBe(201);
          expect({ i, granted: await b.analyticsAt({ anonymousId: 'x' }) }).toEqual({ i, granted: on });
          expect({ i, granted: await a.analyticsAt({ anonymousId: 'x' }) }).toEqual({ i, granted: on });
        }
        // And the other way round, through the privacy centre's path.
        await b.request('/v1/me/consent', {
          shopper: 'c5',
          body: { purposes: { analytics: true }, noticeVersion: '1' },
        });
        expect(await a.analyticsAt({ userId: 'c5' })).toBe(true);
        await b.request('/v1/me/consent', {
          shopper: 'c5',
          body: { purposes: { analytics: false }, noticeVersion: '1' },
        });
        expect(await a.analyticsAt({ userId: 'c5' })).toBe(false);
      });

      it('decisions made at the same moment in both processes form one chain: none forks the ledger', async () => {
        const b = await peer();
        const pseudo = createPseudonymizer(Buffer.alloc(32, 7).toString('base64'));
        const rounds = 12;
        const answers = await Promise.all(
          Array.from({ length: rounds }, (_, i) => [
            decide(a, { anonymousId: 'fork', purposes: { analytics: i % 2 === 0 } }),
            decide(b, { anonymousId: 'fork', purposes: { marketing_email: i % 2 === 0 } }),
          ]).flat(),
        );
        expect(answers.map((r) => r.status)).toEqual(Array.from({ length: 2 * rounds }, () => 201));
        const { records } = await a.consent.service.history([pseudo('device', 'fork')]);
        expect(records).toHaveLength(2 * rounds);
        // Each decision supersedes exactly the one before it, and is placed after it in time.
        records.forEach((r, i) => {
          expect({ i, supersedes: r.supersedes }).toEqual({
            i,
            supersedes: records[i - 1]?.consentId ?? null,
          });
          if (i > 0) expect(r.decidedAt).toBeGreaterThan(records[i - 1]!.decidedAt);
        });
      });

      it('GPC and erasure in one process reach the other process’s cache', async () => {
        const b = await peer();
        const pseudo = createPseudonymizer(Buffer.alloc(32, 7).toString('base64'));
        await decide(a, { anonymousId: 'y', purposes: { analytics: true, advertising: true } });
        expect(
          (await b.consent.reader.stateAt([pseudo('device', 'y')], 'advertising', nextEventTime())).granted,
        ).toBe(true);
        await a.consent.reader.signalGpc([pseudo('device', 'y')], { channel: 'src_test', actor: 'test' });
        await b.consent.reader.sync();
        expect(
          (await b.consent.reader.stateAt([pseudo('device', 'y')], 'advertising', nextEventTime())).granted,
        ).toBe(false);
        expect(await b.analyticsAt({ anonymousId: 'y' })).toBe(true);
        await a.consent.service.eraseSubjects([pseudo('device', 'y')]);
        expect(await b.analyticsAt({ anonymousId: 'y' })).toBe(false);
      });
    });
  });
}
