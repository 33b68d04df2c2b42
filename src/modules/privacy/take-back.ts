/**
 * Taking back what a writer stored for a subject whose erasure ran while the write was under way
 * (ingestion's group commit, a worker storing a stream message): the holders that such a write reaches
 * erase the subjects again, and when events were deleted the event store's file is purged like an
 * erasure's (event-purge.ts: rewritten at once on a small shop, else by the `events.purge` job within two
 * hours), so the erased shopper's pseudonyms leave the file and not only the queries.
 *
 * The purge runs in the background: the writer that asked is answering requests, and a rewrite holds the
 * event store for seconds. `idle()` waits for purges under way (shutdown, tests).
 */
import { newId } from '../../kernel/ids.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { EventPurges } from './event-purge.ts';
import { EVENT_STORE_HOLDER } from './event-store.holder.ts';
import type { HolderRegistry } from './holder.ts';

/** The holders a tracking write reaches: its events, the vault and identity links, the consent ledger. */
const TAKE_BACK_HOLDERS = [EVENT_STORE_HOLDER, 'profiles', 'consent'] as const;

export type TakeBack = {
  /** Erases the subjects again in every holder a write reaches; purges the event file when events went. */
  eraseAgain(subjectIds: readonly string[]): Promise<void>;
  /** Resolves once every purge started so far is done (or failed and was logged). */
  idle(): Promise<void>;
};

export function createTakeBack(deps: {
  registry: HolderRegistry;
  purges: Pick<EventPurges, 'afterDeletion'>;
  logger: Logger;
}): TakeBack {
  const running = new Set<Promise<void>>();
  return {
    async eraseAgain(subjectIds) {
      let eventsDeleted = 0;
      for (const name of TAKE_BACK_HOLDERS) {
        const outcome = await deps.registry.get(name)?.erase({ subjectIds: [...subjectIds] });
        if (name === EVENT_STORE_HOLDER) eventsDeleted = outcome?.deleted ?? 0;
      }
      if (eventsDeleted === 0) return;
      const ref = newId('takeback');
      const purge = deps.purges
        .afterDeletion(ref)
        .then((status) => {
          deps.logger.info(
            { ref, eventsDeleted, purge: status.status },
            'events taken back after an erasure',
          );
        })
        .catch((err: unknown) => {
          // A deletion recorded before the failure is retried by the hourly job.
          deps.logger.error({ err, ref }, 'purge after taking back erased events failed');
        })
        .finally(() => running.delete(purge));
      running.add(purge);
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
