/** The orders module: order records, their feeds (webhooks, stored events), reads and verification. */
import type { Clock } from '../../kernel/clock.ts';
import type { Pseudonymizer } from '../../kernel/crypto.ts';
import type { Guards } from '../../kernel/http.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { CandorModule } from '../../kernel/module.ts';
import type { EventStore, StateStore } from '../../storage/ports.ts';
import type { ErasedSubjects, PersonalDataHolder } from '../privacy/index.ts';
import { orderEventReader } from './order-events.ts';
import { mountOrdersRoutes } from './orders.routes.ts';
import { createOrdersService, type OrdersService } from './orders.service.ts';
import { createOrderStore, ordersMigrations } from './store.ts';

export type OrdersDeps = {
  state: StateStore;
  clock: Clock;
  logger: Logger;
  guards: Guards;
  /** The kernel pseudonymizer: customer pseudonyms (namespace `user`) and order e-mail hashes. */
  pseudonymize: Pseudonymizer;
  /** Where the orders holder registers (privacy's registry). */
  registry?: { register(holder: PersonalDataHolder): void };
  /** Every pseudonym linked to a shopper (the profiles identity graph). */
  linkedSubjects?: (subjectId: string) => Promise<readonly string[]>;
  /** Days orders are kept: the privacy module's `orders` retention class. */
  retentionDays?: () => Promise<number>;
  /** The event store: the catch-up reads stored order events back from it. */
  events?: Pick<EventStore, 'db'>;
  /** How often the catch-up runs, ms (default a minute). */
  catchUpEveryMs?: number;
  /**
   * Whether `start` runs the catch-up once (default true). A process that runs no jobs (server mode's API
   * processes) leaves it to the worker processes, which run it at their start and then on schedule.
   */
  catchUpAtStart?: boolean;
  /** Subjects erased lately by any process (privacy's erased subjects). */
  erased?: Pick<ErasedSubjects, 'among'>;
};

/** The job that makes order records of stored order events that have none (see the README). */
export const ORDERS_CATCH_UP_JOB = 'orders.catch_up';

export type OrdersModule = CandorModule & {
  readonly service: OrdersService;
  readonly holder: PersonalDataHolder;
};

export function createOrdersModule(deps: OrdersDeps): OrdersModule {
  const store = createOrderStore(deps.state);
  const service = createOrdersService({
    store,
    clock: deps.clock,
    logger: deps.logger,
    pseudonymize: deps.pseudonymize,
    linkedSubjects: deps.linkedSubjects,
    retentionDays: deps.retentionDays,
    orderEvents: deps.events ? orderEventReader(deps.events.db) : undefined,
    erased: deps.erased,
  });
  const holder: PersonalDataHolder = {
    describe: () => ({
      name: 'orders',
      summary:
        'Your orders: number, items, amounts, status, carrier and tracking number. The e-mail used for an order is kept only as a keyed hash, to check it is you when you ask about the order.',
      sources: [
        'the shop’s order system (Shopify or WooCommerce webhooks)',
        'orders reported by the shop’s website or imported',
      ],
      tables: [
        {
          store: 'state',
          table: 'orders',
          subjectColumns: ['subject_id'],
          personalColumns: ['email_hash', 'tracking_number', 'tracking_url'],
          category: 'orders',
          purpose: 'Delivering your orders, answering your questions about them, and the shop’s tax records.',
          retention:
            'The orders retention period (10 years by default, for tax). After an erasure, paid orders stay without any link to you for that period; unpaid ones are deleted.',
        },
      ],
    }),
    async export(subject) {
      await service.drain();
      return {
        tables: { orders: await service.exportRows(subject.subjectIds) },
        notes: [
          'The e-mail address used for an order is not stored; only a keyed hash of it is, to verify you in the chat.',
        ],
      };
    },
    // Orders already stored as events but still queued would otherwise be recorded after the erasure,
    // linked to the erased shopper again: wait for the queue first.
    erase: async (subject) => {
      await service.drain();
      return service.erase(subject.subjectIds);
    },
    purgeExpired: async (dataClass, beforeTs) =>
      dataClass === 'orders' ? service.purgeOlderThan(beforeTs) : 0,
  };
  deps.registry?.register(holder);
  let startup: Promise<void> = Promise.resolve();
  return {
    name: 'orders',
    service,
    holder,
    migrations: ordersMigrations(deps.state),
    routes: (router) => mountOrdersRoutes(router, { service, guards: deps.guards }),
    ...(deps.events
      ? {
          jobs: {
            [ORDERS_CATCH_UP_JOB]: async () => {
              await service.catchUpFromEvents();
            },
          },
          schedules: [
            { name: ORDERS_CATCH_UP_JOB, kind: ORDERS_CATCH_UP_JOB, everyMs: deps.catchUpEveryMs ?? 60_000 },
          ],
        }
      : {}),
    // Orders whose events a crash left without records get them right after the restart, not a period later.
    start: async () => {
      if (!deps.events || deps.catchUpAtStart === false) return;
      startup = service.catchUpFromEvents().then(
        () => undefined,
        (err: unknown) =>
          deps.logger.warn({ err }, 'order catch-up at start failed; the scheduled job retries'),
      );
    },
    // Ingestion stops first (it flushes its last group, which may queue orders); this waits for them.
    stop: async () => {
      await startup;
      await service.drain();
    },
  };
}
