/**
 * Per-subject data keys and the PII vault. Each identifier is sealed with AES-256-GCM under the subject's
 * data key, bound to subject and field (AAD), so a ciphertext moved to another row does not open. E-mail
 * and phone also get an HMAC lookup hash so a request "by e-mail" can find the person without decrypting.
 * Staff read identifiers through `readPii` only, which checks role and purpose and writes an audit record.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../../kernel/clock.ts';
import { newDataKey, open, seal, type KeyRing, type Pseudonymizer } from '../../kernel/crypto.ts';
import { AppError } from '../../kernel/errors.ts';
import type { StaffRole } from '../../kernel/http.ts';
import { newId } from '../../kernel/ids.ts';
import type { StateStore } from '../../storage/ports.ts';
import { profilesDb } from './store.ts';

export const PII_FIELDS = ['email', 'phone', 'name', 'address'] as const;
export type PiiField = (typeof PII_FIELDS)[number];
export type Identifiers = Partial<Record<PiiField, string>>;

/** Why a staff member reads a shopper's identifiers; each purpose names the roles it is open to. */
export const PII_READ_PURPOSES = {
  order_support: ['owner', 'admin', 'support', 'privacy_officer'],
  data_subject_request: ['owner', 'admin', 'privacy_officer'],
  fraud_investigation: ['owner', 'admin', 'security_officer', 'privacy_officer'],
  legal_obligation: ['owner', 'privacy_officer'],
} as const satisfies Record<string, readonly StaffRole[]>;
export type PiiReadPurpose = keyof typeof PII_READ_PURPOSES;

export type StaffReader = { staffId: string; role: StaffRole };

export type VaultAudit = {
  record(entry: {
    actor: string;
    action: string;
    target?: string | null;
    purpose?: string | null;
    outcome: 'success' | 'failure' | 'denied';
    details?: Record<string, string | number | boolean | null>;
  }): Promise<void>;
};

/** One step of a caller's state-store transaction. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the port's transaction handle is untyped
export type VaultWrite = (trx: Kysely<any>) => Promise<void>;

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Digits only, keeping a leading +: "+62 812-3456" and "+628123456" find the same person. */
export function normalisePhone(phone: string): string {
  const t = phone.trim();
  return (t.startsWith('+') ? '+' : '') + t.replace(/\D/g, '');
}

export function createVaultService(deps: {
  state: StateStore;
  clock: Clock;
  keyRing: KeyRing;
  pseudonymize: Pseudonymizer;
  audit: VaultAudit;
}) {
  const db = profilesDb(deps.state);
  const now = () => deps.clock.now().getTime();

  const lookupHash = (field: PiiField, value: string): string | null =>
    field === 'email'
      ? deps.pseudonymize('pii-email', normaliseEmail(value))
      : field === 'phone'
        ? deps.pseudonymize('pii-phone', normalisePhone(value))
        : null;

  /** The subject's data key, created on first use; `tx` is the transaction it is read or created in. */
  const dataKey = async (
    subjectId: string,
    create: boolean,
    tx: typeof db = db,
  ): Promise<{ keyId: string; key: Buffer } | null> => {
    const row = await tx
      .selectFrom('subject_keys')
      .selectAll()
      .where('subject_id', '=', subjectId)
      .executeTakeFirst();
    if (row) return { keyId: row.key_id, key: deps.keyRing.unwrap(row.wrapped_key) };
    if (!create) return null;
    const key = newDataKey();
    const keyId = newId('sk');
    await tx
      .insertInto('subject_keys')
      .values({
        subject_id: subjectId,
        key_id: keyId,
        wrapped_key: deps.keyRing.wrap(key),
        created_at: now(),
      })
      .onConflict((oc) => oc.column('subject_id').doNothing())
      .execute();
    // Another writer may have won the race; use whichever key is stored.
    return dataKey(subjectId, false, tx);
  };

  const aad = (subjectId: string, field: string) => `${subjectId}:${field}`;

  /**
   * The writes that store (or replace) direct identifiers of a subject, sealed under its data key, as one
   * step of a caller's transaction: ingestion runs every identify of a group commit in the transaction that
   * also records the group's counters, so a whole group costs one durable commit. Null when there is nothing
   * to store.
   */
  const prepareIdentifiers = (subjectId: string, identifiers: Identifiers): VaultWrite | null => {
    const entries = PII_FIELDS.flatMap((f) => {
      const v = identifiers[f];
      return typeof v === 'string' && v.trim() !== '' ? [[f, v.trim().slice(0, 1000)] as const] : [];
    });
    if (entries.length === 0) return null;
    return async (trx) => {
      const tx = trx as typeof db;
      const key = (await dataKey(subjectId, true, tx))!;
      for (const [field, value] of entries) {
        const values = {
          ciphertext: seal(key.key, value, aad(subjectId, field)),
          lookup_hash: lookupHash(field, value),
          updated_at: now(),
        };
        await tx
          .insertInto('pii_vault')
          .values({ subject_id: subjectId, field, ...values })
          .onConflict((oc) => oc.columns(['subject_id', 'field']).doUpdateSet(values))
          .execute();
      }
    };
  };

  const readAll = async (subjectIds: readonly string[]): Promise<Identifiers> => {
    const out: Identifiers = {};
    for (const sid of subjectIds) {
      const key = await dataKey(sid, false);
      if (!key) continue;
      const rows = await db.selectFrom('pii_vault').selectAll().where('subject_id', '=', sid).execute();
      for (const r of rows) {
        if (!(PII_FIELDS as readonly string[]).includes(r.field) || out[r.field as PiiField] !== undefined)
          continue;
        out[r.field as PiiField] = open(key.key, Buffer.from(r.ciphertext), aad(sid, r.field)).toString(
          'utf8',
        );
      }
    }
    return out;
  };

  return {
    prepareIdentifiers,

    /** Stores (or replaces) direct identifiers of a subject in one transaction (key included). */
    async storeIdentifiers(subjectId: string, identifiers: Identifiers): Promise<void> {
      const write = prepareIdentifiers(subjectId, identifiers);
      if (write) await deps.state.transaction(write);
    },

    /** Decrypts for the subject's own export and rectification (never for staff: see readPii). */
    readForSubject: readAll,

    async removeIdentifiers(subjectId: string, fields: readonly PiiField[]): Promise<number> {
      if (fields.length === 0) return 0;
      const r = await db
        .deleteFrom('pii_vault')
        .where('subject_id', '=', subjectId)
        .where('field', 'in', [...fields])
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },

    /** The person whose e-mail (or phone) this is, by lookup hash. */
    async findByIdentifier(field: 'email' | 'phone', value: string): Promise<string[]> {
      const hash = lookupHash(field, value);
      if (!hash) return [];
      const rows = await db
        .selectFrom('pii_vault')
        .select('subject_id')
        .where('lookup_hash', '=', hash)
        .where('field', '=', field)
        .execute();
      return rows.map((r) => r.subject_id);
    },

    /**
     * The one way staff read a shopper's identifiers: the role must be allowed for the purpose, and every
     * attempt (allowed or not) is audited. The audit target is the subject's key id, which is destroyed
     * with the key on erasure, so the permanent log cannot be joined back to the person afterwards.
     */
    async readPii(staff: StaffReader, subjectIds: readonly string[], purpose: string): Promise<Identifiers> {
      const allowed = (PII_READ_PURPOSES as Record<string, readonly StaffRole[]>)[purpose];
      const keyIds = [];
      for (const sid of subjectIds) {
        const row = await db
          .selectFrom('subject_keys')
          .select('key_id')
          .where('subject_id', '=', sid)
          .executeTakeFirst();
        if (row) keyIds.push(row.key_id);
      }
      const target = keyIds.length > 0 ? `subject-key:${keyIds.join(',')}` : null;
      if (!allowed) {
        await deps.audit.record({
          actor: `staff:${staff.staffId}`,
          action: 'pii.read',
          target,
          purpose: purpose.slice(0, 60),
          outcome: 'denied',
          details: { reason: 'unknown purpose' },
        });
        throw new AppError(
          'invalid_request',
          `Unknown purpose '${purpose}'. Use one of: ${Object.keys(PII_READ_PURPOSES).join(', ')}.`,
        );
      }
      if (!allowed.includes(staff.role)) {
        await deps.audit.record({
          actor: `staff:${staff.staffId}`,
          action: 'pii.read',
          target,
          purpose,
          outcome: 'denied',
          details: { role: staff.role },
        });
        throw new AppError('forbidden', `The ${staff.role} role may not read personal data for ${purpose}.`);
      }
      const identifiers = await readAll(subjectIds);
      await deps.audit.record({
        actor: `staff:${staff.staffId}`,
        action: 'pii.read',
        target,
        purpose,
        outcome: 'success',
        details: { fields: Object.keys(identifiers).join(',') },
      });
      return identifiers;
    },

    async keyIdOf(subjectId: string): Promise<string | null> {
      const row = await db
        .selectFrom('subject_keys')
        .select('key_id')
        .where('subject_id', '=', subjectId)
        .executeTakeFirst();
      return row?.key_id ?? null;
    },

    /** Crypto-shredding: without the key, every sealed identifier of the subject is unreadable anywhere it was copied. */
    async destroyKeys(subjectIds: readonly string[]): Promise<number> {
      if (subjectIds.length === 0) return 0;
      const r = await db
        .deleteFrom('subject_keys')
        .where('subject_id', 'in', [...subjectIds])
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },

    async deleteVault(subjectIds: readonly string[]): Promise<number> {
      if (subjectIds.length === 0) return 0;
      const r = await db
        .deleteFrom('pii_vault')
        .where('subject_id', 'in', [...subjectIds])
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },

    /** Re-wraps every data key still under an older KEK (KEK rotation); the data itself is untouched. */
    async rewrapKeys(): Promise<number> {
      let n = 0;
      for (const row of await db.selectFrom('subject_keys').selectAll().execute()) {
        if (!deps.keyRing.needsRewrap(row.wrapped_key)) continue;
        await db
          .updateTable('subject_keys')
          .set({ wrapped_key: deps.keyRing.rewrap(row.wrapped_key) })
          .where('subject_id', '=', row.subject_id)
          .execute();
        n++;
      }
      return n;
    },
  };
}

export type VaultService = ReturnType<typeof createVaultService>;
