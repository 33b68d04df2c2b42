/**
 * The behavioural events of a subject in the event store (DuckDB or PostgreSQL). Erasure deletes them;
 * the erasure flow then purges the store (event-purge.ts) so the bytes leave the files.
 */
import type { EventStore } from '../../storage/ports.ts';
import { subjectIdsOf, type PersonalDataHolder } from './holder.ts';

export const EVENT_STORE_HOLDER = 'event-store';

export function createEventStoreHolder(events: EventStore): PersonalDataHolder {
  return {
    describe: () => ({
      name: EVENT_STORE_HOLDER,
      summary:
        'What you did in the shop (pages, products, searches, carts, orders, reviews), each with the purpose it was collected for and the consent that allowed it.',
      sources: ['the shop’s website and apps (tracking SDK)', 'the shop backend (orders)'],
      tables: [
        {
          store: 'events',
          table: 'events',
          subjectColumns: ['subject_id', 'anonymous_id', 'user_id'],
          personalColumns: ['session_id', 'path', 'referrer', 'query', 'props', 'region', 'country'],
          category: 'events',
          purpose:
            'The purpose recorded on each event (analytics, personalisation, or necessary for orders).',
          retention:
            'Anonymous events 13 months, identified events 2 years, orders 10 years (tax), reviews 5 years; then rolled up into daily totals without you.',
        },
      ],
    }),
    async export(subject) {
      const rows = await events.eventsOfSubjects(subjectIdsOf(subject));
      return {
        tables: {
          events: rows.map((e) => ({
            ...e,
            ts: new Date(e.ts).toISOString(),
            receivedAt: new Date(e.receivedAt).toISOString(),
          })),
        },
      };
    },
    async erase(subject) {
      return { deleted: await events.deleteSubjects(subjectIdsOf(subject)) };
    },
  };
}
