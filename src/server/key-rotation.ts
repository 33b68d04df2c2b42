/**
 * KEK rotation: every data key and sealed secret stored wrapped by the key-encryption key is re-wrapped
 * under the primary KEK, so an old KEK can be retired. The data those keys protect is not touched.
 * The composition root knows which module tables hold wrapped keys; this is the one list of them.
 */
import type { KeyRing } from '../kernel/crypto.ts';
import type { StateStore } from '../storage/ports.ts';

/** Table, primary key column, wrapped-key column. */
export const WRAPPED_KEY_COLUMNS = [
  { table: 'subject_keys', id: 'subject_id', column: 'wrapped_key' }, // profiles: per-shopper data keys
  { table: 'staff', id: 'id', column: 'data_key' }, // auth: per-staff data keys (sealed e-mail, TOTP secret)
  { table: 'staff_outbox', id: 'id', column: 'data_key' }, // auth: sealed outgoing messages
  { table: 'ingest_webhook_secrets', id: 'id', column: 'sealed_secret' }, // ingest: shop webhook secrets
  { table: 'chat_conversations', id: 'id', column: 'channel_address' }, // chatbot: sealed messaging addresses
  { table: 'chat_messages', id: 'id', column: 'outgoing_sealed' }, // chatbot: agent replies waiting to be sent
] as const;

export type RotationResult = { primaryKek: string; rewrapped: Record<string, number>; total: number };

export async function rotateKeys(state: StateStore, keyRing: KeyRing): Promise<RotationResult> {
  const rewrapped: Record<string, number> = {};
  let total = 0;
  for (const { table, id, column } of WRAPPED_KEY_COLUMNS) {
    const rows = (await state.db
      .selectFrom(table)
      .select([id, column])
      .where(column, 'is not', null)
      .execute()) as Record<string, string>[];
    let n = 0;
    // One transaction per table: a crash leaves each key either old-wrapped or new-wrapped, both readable.
    await state.transaction(async (trx) => {
      for (const row of rows) {
        const wrapped = row[column]!;
        if (!keyRing.needsRewrap(wrapped)) continue;
        await trx
          .updateTable(table)
          .set({ [column]: keyRing.rewrap(wrapped) })
          .where(id, '=', row[id]!)
          .execute();
        n++;
      }
    });
    rewrapped[table] = n;
    total += n;
  }
  return { primaryKek: keyRing.primaryId, rewrapped, total };
}
