/**
 * The ingestion pipeline: validate → consent gate → minimise → pseudonymise → scrub → enrich → dedupe
 * → group commit. Each step is a pure function in its own file; this service looks up consent, hands
 * identifiers to the PII vault, counts drops and quarantines, and acknowledges only committed events.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../kernel/clock.ts';
import type { Pseudonymizer } from '../../kernel/crypto.ts';
import { uuidv7 } from '../../kernel/ids.ts';
import type { EventRecord, EventStore, StateStore } from '../../storage/ports.ts';
import { consentGate, gatePurpose } from './consent-gate.step.ts';
import { enrichEvent } from './enrich-event.step.ts';
import { createIngestBuffer, type IngestBuffer } from './ingest-buffer.ts';
import { minimiseEvent } from './minimise-event.step.ts';
import {
  extractIdentifiers,
  pseudonymiseEvent,
  subjectIdsOf,
  type Identifiers,
} from './pseudonymise-event.step.ts';
import { scrubEvent } from './scrub-event.step.ts';
import type { StepResult } from './step.ts';
import { createIngestStore, type DropCount, type QuarantineEntry } from './store.ts';
import { validateEvent } from './validate-event.step.ts';

/** What ingestion needs from the consent module (its index.ts exports the matching implementation). */
export type IngestConsent = {
  stateAt(
    subjectIds: readonly string[],
    purpose: 'analytics',
    ts: number,
  ): Promise<{ granted: boolean; consentId: string | null }>;
  signalGpc(
    subjectIds: readonly string[],
    options: { channel: string | null; actor: string },
  ): Promise<unknown>;
};

export type IngestDeps = {
  state: StateStore;
  events: EventStore;
  clock: Clock;
  pseudonymize: Pseudonymizer;
  consent: IngestConsent;
  /** The profiles module's PII vault; until it is wired, direct identifiers from traits are never stored. */
  vault?: { storeIdentifiers(subjectId: string, identifiers: Identifiers): Promise<void> };
  /** The profiles module's identity graph (identify / alias link a device to a customer). */
  identity?: {
    link(input: {
      sourceId: string;
      userId: string;
      anonymousId: string | null;
      previousIds: readonly string[];
      ts: number;
    }): Promise<void>;
  };
  authenticateWriteKey: (key: string) => Promise<{ sourceId: string } | null>;
};

export type IngestConfig = {
  /** Group-commit window, ms. */
  commitDelayMs?: number;
  /** Group size that commits at once. */
  commitMaxEvents?: number;
};

export type IngestRequest = {
  sourceId: string;
  messages: readonly unknown[];
  /** Envelope fields of /v1/batch (`sentAt`, `context`) that apply to every message. */
  sentAt?: unknown;
  context?: unknown;
  /** `Sec-GPC: 1` on the request. */
  gpc: boolean;
};

export type IngestOutcome = {
  accepted: number;
  dropped: number;
  quarantined: number;
  /** Quarantine reasons of this request (reason → count), for error messages. */
  reasons: Record<string, number>;
};

/** A stable event id from source + message id, so a retried message is stored once. */
export function eventIdOf(sourceId: string, messageId: string | null): string {
  if (messageId === null) return uuidv7();
  const h = createHash('sha256').update(sourceId).update('\u0000').update(messageId).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const KNOWN_CALLS = new Set(['track', 'page', 'screen', 'identify', 'alias']);

/** The call kind of an invalid message, for the quarantine row: a fixed word, never content. */
function quarantineType(raw: unknown): string {
  if (typeof raw !== 'object' || raw === null) return 'invalid';
  const t = (raw as Record<string, unknown>).type;
  return typeof t === 'string' && KNOWN_CALLS.has(t) ? t : 'unknown';
}

export type IngestService = ReturnType<typeof createIngestService>;

export function createIngestService(deps: IngestDeps, config: IngestConfig = {}) {
  const store = createIngestStore(deps.state);
  const buffer: IngestBuffer = createIngestBuffer({
    maxDelayMs: config.commitDelayMs ?? 4,
    maxEvents: config.commitMaxEvents ?? 20_000,
    commit: async (unit) => {
      await deps.events.append(unit.events);
      await store.record(unit.quarantined, unit.drops);
    },
  });

  async function ingest(request: IngestRequest): Promise<IngestOutcome> {
    const receivedAt = deps.clock.now().getTime();
    const { sourceId } = request;
    const events: EventRecord[] = [];
    const quarantined: QuarantineEntry[] = [];
    const drops = new Map<string, number>();
    const reasons: Record<string, number> = {};
    const gpcDone = new Set<string>();
    const sideEffects: Promise<void>[] = [];

    const addDrop = (reason: string) => drops.set(reason, (drops.get(reason) ?? 0) + 1);

    for (const raw of request.messages) {
      const validated = validateEvent(raw, { receivedAt, sentAt: request.sentAt, context: request.context });
      if (validated.kind !== 'ok') {
        if (validated.kind === 'quarantine') {
          reasons[validated.reason] = (reasons[validated.reason] ?? 0) + 1;
          let size: number;
          try {
            size = Buffer.byteLength(JSON.stringify(raw) ?? '');
          } catch {
            size = -1;
          }
          quarantined.push({
            id: uuidv7(receivedAt),
            sourceId,
            reason: validated.reason,
            eventType: quarantineType(raw),
            detail: validated.detail ?? null,
            sizeBytes: size,
            receivedAt,
          });
        } else addDrop(validated.reason);
        continue;
      }
      const ev = validated.event;
      const subjectIds = subjectIdsOf(deps.pseudonymize, ev);

      // GPC is an opt-out of advertising and sale, recorded before the event is judged.
      if (request.gpc || ev.context.gpc) {
        const key = subjectIds.join(',');
        if (!gpcDone.has(key)) {
          gpcDone.add(key);
          await deps.consent.signalGpc(subjectIds, { channel: sourceId, actor: `source:${sourceId}` });
        }
      }

      const consent = await deps.consent.stateAt(subjectIds, gatePurpose(ev.type), ev.ts);
      const gated = consentGate(ev, consent);
      if (gated.kind !== 'ok') {
        note(gated);
        continue;
      }
      const minimal = minimiseEvent(gated.event);
      if (minimal.kind !== 'ok') {
        note(minimal);
        continue;
      }
      const pseudo = pseudonymiseEvent(minimal.event, deps.pseudonymize);
      if (pseudo.kind !== 'ok') {
        note(pseudo);
        continue;
      }
      const scrubbed = scrubEvent(pseudo.event);
      if (scrubbed.kind !== 'ok') {
        note(scrubbed);
        continue;
      }
      const enriched = enrichEvent(scrubbed.event);
      if (enriched.kind !== 'ok') {
        note(enriched);
        continue;
      }
      const { messageId, ...record } = enriched.event;
      events.push({ ...record, eventId: eventIdOf(sourceId, messageId), sourceId });

      if (ev.type === 'identify') {
        const identifiers = extractIdentifiers(ev.traits);
        if (deps.vault && Object.keys(identifiers).length > 0) {
          sideEffects.push(deps.vault.storeIdentifiers(record.subjectId, identifiers));
        }
      }
      if ((ev.type === 'identify' || ev.type === 'alias') && deps.identity && record.userId !== null) {
        const previousIds = (JSON.parse(record.props) as { previousIds?: string[] }).previousIds ?? [];
        sideEffects.push(
          deps.identity.link({
            sourceId,
            userId: record.userId,
            anonymousId: record.anonymousId,
            previousIds,
            ts: record.ts,
          }),
        );
      }
    }

    function note(result: StepResult<unknown>): void {
      if (result.kind === 'drop') addDrop(result.reason);
      else if (result.kind === 'quarantine') reasons[result.reason] = (reasons[result.reason] ?? 0) + 1;
    }

    const dropList: DropCount[] = [...drops].map(([reason, count]) => ({
      sourceId,
      reason,
      count,
      lastAt: receivedAt,
    }));
    await Promise.all(sideEffects);
    await buffer.submit({ events, quarantined, drops: dropList });
    let dropped = 0;
    for (const n of drops.values()) dropped += n;
    return { accepted: events.length, dropped, quarantined: quarantined.length, reasons };
  }

  return {
    ingest,
    stats: (options: { sourceId?: string; limit: number }) => store.stats(options),
    deleteQuarantineOlderThan: (ts: number) => store.deleteQuarantineOlderThan(ts),
    authenticateWriteKey: (key: string) => deps.authenticateWriteKey(key),
    stop: () => buffer.stop(),
  };
}
