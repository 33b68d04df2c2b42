/**
 * The auth module's tables. Staff emails are sealed with a per-staff data key (wrapped by the KEK) and
 * found by an HMAC lookup hash; passwords are argon2id hashes; session tokens, recovery codes and API
 * keys are stored only as SHA-256 hashes (they are high-entropy random strings).
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { columnTypes, stateDialectOf, tablesOf } from '../../storage/index.ts';
import type { StateStore } from '../../storage/ports.ts';

type Num = number | string | bigint;

export type StaffRow = {
  id: string;
  email_hash: string;
  email_enc: Uint8Array;
  data_key: string;
  role: string;
  password_hash: string;
  totp_secret_enc: Uint8Array;
  /** 0 until the first code from the authenticator app was accepted. */
  totp_confirmed: number;
  totp_pending_enc: Uint8Array | null;
  totp_last_step: Num | null;
  disabled: number;
  failed_logins: number;
  locked_until: Num | null;
  created_at: Num;
  updated_at: Num;
};

export type SessionRow = {
  id: string;
  token_hash: string;
  staff_id: string;
  /** `mfa`: password accepted, waiting for the second factor; `active`: a signed-in session. */
  stage: string;
  created_at: Num;
  last_seen_at: Num;
  expires_at: Num;
  /** Last time the password was entered in this session (re-authentication for sensitive changes). */
  auth_at: Num;
  otp_failures: number;
  revoked_at: Num | null;
};

export type RecoveryCodeRow = { staff_id: string; code_hash: string; used_at: Num | null };

export type SourceRow = { id: string; name: string; created_at: Num; created_by: string | null };

export type WriteKeyRow = {
  id: string;
  source_id: string;
  key_hash: string;
  /** The first characters, so staff can tell keys apart without the key. */
  prefix: string;
  created_at: Num;
  expires_at: Num | null;
};

export type ServerKeyRow = {
  id: string;
  name: string;
  key_hash: string;
  prefix: string;
  scopes: string;
  created_by: string | null;
  created_at: Num;
  last_used_at: Num | null;
  revoked_at: Num | null;
};

export type AlertRow = {
  id: string;
  kind: string;
  severity: string;
  /** Pseudonymous: an IP pseudonym, a staff id, a key id. */
  subject: string;
  details: string;
  created_at: Num;
};

export type PasswordResetRow = {
  id: string;
  staff_id: string;
  /** SHA-256 of the token; the token itself exists only in the sealed outbox message. */
  token_hash: string;
  created_at: Num;
  expires_at: Num;
  used_at: Num | null;
  /** Wrong second factors presented with this token; it is burnt after a few. */
  failures: number;
};

/**
 * Messages for staff (password-reset links) waiting for the shop's mailer. The body is sealed with a
 * data key wrapped by the KEK, so a copy of the database reveals no reset token; a claimed message is
 * deleted.
 */
export type StaffOutboxRow = {
  id: string;
  kind: string;
  staff_id: string;
  data_key: string;
  body_enc: Uint8Array;
  created_at: Num;
  expires_at: Num;
};

export type AuthTables = {
  staff_password_resets: PasswordResetRow;
  staff_outbox: StaffOutboxRow;
  staff: StaffRow;
  staff_sessions: SessionRow;
  staff_recovery_codes: RecoveryCodeRow;
  sources: SourceRow;
  source_write_keys: WriteKeyRow;
  server_keys: ServerKeyRow;
  security_alerts: AlertRow;
};

export function authDb(store: StateStore): Kysely<AuthTables> {
  return tablesOf<AuthTables>(store);
}

export const authMigrations: Record<string, Migration> = {
  'auth-0001-staff-sessions-keys': {
    async up(db: Kysely<unknown>) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run before tables exist
      const t = columnTypes(stateDialectOf(db as Kysely<any>));
      await db.schema
        .createTable('staff')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email_hash', 'text', (c) => c.notNull().unique())
        .addColumn('email_enc', t.blob, (c) => c.notNull())
        .addColumn('data_key', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('totp_secret_enc', t.blob, (c) => c.notNull())
        .addColumn('totp_confirmed', t.bool, (c) => c.notNull().defaultTo(0))
        .addColumn('totp_pending_enc', t.blob)
        .addColumn('totp_last_step', t.bigint)
        .addColumn('disabled', t.bool, (c) => c.notNull().defaultTo(0))
        .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('locked_until', t.ts)
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('updated_at', t.ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('staff_sessions')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('staff_id', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('last_seen_at', t.ts, (c) => c.notNull())
        .addColumn('expires_at', t.ts, (c) => c.notNull())
        .addColumn('auth_at', t.ts, (c) => c.notNull())
        .addColumn('otp_failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('revoked_at', t.ts)
        .execute();
      await db.schema
        .createIndex('staff_sessions_staff')
        .ifNotExists()
        .on('staff_sessions')
        .column('staff_id')
        .execute();
      await db.schema
        .createTable('staff_recovery_codes')
        .ifNotExists()
        .addColumn('staff_id', 'text', (c) => c.notNull())
        .addColumn('code_hash', 'text', (c) => c.notNull().unique())
        .addColumn('used_at', t.ts)
        .execute();
      await db.schema
        .createTable('sources')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .execute();
      await db.schema
        .createTable('source_write_keys')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('source_id', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('expires_at', t.ts)
        .execute();
      await db.schema
        .createTable('server_keys')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('scopes', t.json, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('last_used_at', t.ts)
        .addColumn('revoked_at', t.ts)
        .execute();
      await db.schema
        .createTable('security_alerts')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('details', t.json, (c) => c.notNull())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('security_alerts_time')
        .ifNotExists()
        .on('security_alerts')
        .column('created_at')
        .execute();
    },
  },
  'auth-0002-password-reset': {
    async up(db: Kysely<unknown>) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run before tables exist
      const t = columnTypes(stateDialectOf(db as Kysely<any>));
      await db.schema
        .createTable('staff_password_resets')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('staff_id', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('expires_at', t.ts, (c) => c.notNull())
        .addColumn('used_at', t.ts)
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex('staff_password_resets_staff')
        .ifNotExists()
        .on('staff_password_resets')
        .column('staff_id')
        .execute();
      await db.schema
        .createTable('staff_outbox')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('staff_id', 'text', (c) => c.notNull())
        .addColumn('data_key', 'text', (c) => c.notNull())
        .addColumn('body_enc', t.blob, (c) => c.notNull())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('expires_at', t.ts, (c) => c.notNull())
        .execute();
    },
  },
};
