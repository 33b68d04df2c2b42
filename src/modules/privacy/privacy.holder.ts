/**
 * The privacy module's own personal data: which requests are in progress for a subject (until they
 * complete) and share-log entries that name the subject.
 */
import type { StateStore } from '../../storage/ports.ts';
import { subjectIdsOf, type PersonalDataHolder } from './holder.ts';
import type { ProcessingService } from './processing.service.ts';
import { privacyDb } from './store.ts';

export function createPrivacyHolder(deps: {
  state: StateStore;
  processing: ProcessingService;
}): PersonalDataHolder {
  const db = privacyDb(deps.state);
  return {
    describe: () => ({
      name: 'privacy',
      summary: 'Your open privacy requests and the record of what was shared about you, with whom and why.',
      sources: ['your requests', 'the shop, when it shares data with a processor'],
      tables: [
        {
          store: 'state',
          table: 'dsar_request_subjects',
          subjectColumns: ['subject_id'],
          category: 'privacy_requests',
          purpose: 'Carrying out your export or erasure request, and resuming it after an interruption.',
          retention:
            'Until the request is completed or rejected; the request itself is kept without any reference to you.',
        },
        {
          store: 'state',
          table: 'privacy_share_log',
          subjectColumns: ['subject_id'],
          category: 'privacy_requests',
          purpose: 'Accountability: a record of what was shared with whom, when and why (GDPR Art. 30).',
          retention: 'The entry is kept; the link to you is removed when you are erased.',
        },
      ],
    }),
    async export(subject) {
      const ids = subjectIdsOf(subject);
      const open =
        ids.length === 0
          ? []
          : await db
              .selectFrom('dsar_request_subjects')
              .innerJoin('dsar_requests', 'dsar_requests.id', 'dsar_request_subjects.request_id')
              .select([
                'dsar_requests.id',
                'dsar_requests.kind',
                'dsar_requests.status',
                'dsar_requests.received_at',
                'dsar_requests.deadline_at',
              ])
              .where('dsar_request_subjects.subject_id', 'in', ids)
              .distinct()
              .execute();
      return {
        tables: {
          privacy_requests: open.map((r) => ({
            id: r.id,
            kind: r.kind,
            status: r.status,
            receivedAt: Number(r.received_at),
            deadlineAt: Number(r.deadline_at),
          })),
          privacy_share_log: (await deps.processing.sharesOf(ids)).map((s) => ({ ...s })),
        },
      };
    },
    async erase(subject) {
      const ids = subjectIdsOf(subject);
      if (ids.length === 0) return { deleted: 0 };
      const detached = await deps.processing.detachSubject(ids);
      // The rows of a request still running are its own bookkeeping; the request removes them when it completes.
      const r = await db
        .deleteFrom('dsar_request_subjects')
        .where('subject_id', 'in', ids)
        .where(
          'request_id',
          'not in',
          db.selectFrom('dsar_requests').select('id').where('status', '=', 'processing'),
        )
        .executeTakeFirst();
      return { deleted: detached + Number(r.numDeletedRows) };
    },
  };
}
