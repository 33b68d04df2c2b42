/**
 * The profiles module's tables. Direct identifiers live only in `pii_vault`, sealed under the subject's
 * own data key (`subject_keys`, wrapped by the KEK): deleting the key row makes every copy of them,
 * including ones in backups, unreadable.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { columnTypes } from '../../storage/column-types.ts';
import type { StateDialect, StateStore } from '../../storage/ports.ts';

type Num = number | string | bigint;

export type SubjectKeyRow = { subject_id: string; key_id: string; wrapped_key: string; created_at: Num };
export type PiiVaultRow = {
  subject_id: string;
  field: string;
  ciphertext: Buffer | Uint8Array;
  lookup_hash: string | null;
  updated_at: Num;
};
export type IdentityLinkRow = {
  anonymous_id: string;
  user_id: string;
  state: string;
  method: string;
  linked_at: Num;
  updated_at: Num;
};
export type TraitRow = { subject_id: string; trait: string; value: string; source: string; updated_at: Num };
export type InterestTagRow = { subject_id: string; tag: string; score: number; updated_at: Num };
export type TagSuppressionRow = { subject_id: string; tag: string; deleted_at: Num };
export type ProfileSettingsRow = {
  subject_id: string;
  personalization: Num;
  restricted: Num;
  updated_at: Num;
};

export type ProfilesTables = {
  subject_keys: SubjectKeyRow;
  pii_vault: PiiVaultRow;
  identity_links: IdentityLinkRow;
  profile_traits: TraitRow;
  interest_tags: InterestTagRow;
  interest_tag_suppressions: TagSuppressionRow;
  profile_settings: ProfileSettingsRow;
};

export function profilesDb(store: StateStore): Kysely<ProfilesTables> {
  return store.db as Kysely<ProfilesTables>;
}

export function profilesMigrations(dialect: StateDialect): Record<string, Migration> {
  const t = columnTypes(dialect);
  return {
    'profiles-0001-vault-and-graph': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('subject_keys')
          .ifNotExists()
          .addColumn('subject_id', 'text', (c) => c.primaryKey())
          .addColumn('key_id', 'text', (c) => c.notNull().unique())
          .addColumn('wrapped_key', 'text', (c) => c.notNull())
          .addColumn('created_at', t.ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('pii_vault')
          .ifNotExists()
          .addColumn('subject_id', 'text', (c) => c.notNull())
          .addColumn('field', 'text', (c) => c.notNull())
          .addColumn('ciphertext', t.blob, (c) => c.notNull())
          .addColumn('lookup_hash', 'text')
          .addColumn('updated_at', t.ts, (c) => c.notNull())
          .addPrimaryKeyConstraint('pii_vault_pk', ['subject_id', 'field'])
          .execute();
        await db.schema
          .createIndex('pii_vault_lookup')
          .ifNotExists()
          .on('pii_vault')
          .column('lookup_hash')
          .execute();
        await db.schema
          .createTable('identity_links')
          .ifNotExists()
          .addColumn('anonymous_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('method', 'text', (c) => c.notNull())
          .addColumn('linked_at', t.ts, (c) => c.notNull())
          .addColumn('updated_at', t.ts, (c) => c.notNull())
          .addPrimaryKeyConstraint('identity_links_pk', ['anonymous_id', 'user_id'])
          .execute();
        await db.schema
          .createIndex('identity_links_user')
          .ifNotExists()
          .on('identity_links')
          .column('user_id')
          .execute();
        await db.schema
          .createTable('profile_traits')
          .ifNotExists()
          .addColumn('subject_id', 'text', (c) => c.notNull())
          .addColumn('trait', 'text', (c) => c.notNull())
          .addColumn('value', t.json, (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('updated_at', t.ts, (c) => c.notNull())
          .addPrimaryKeyConstraint('profile_traits_pk', ['subject_id', 'trait'])
          .execute();
        await db.schema
          .createTable('interest_tags')
          .ifNotExists()
          .addColumn('subject_id', 'text', (c) => c.notNull())
          .addColumn('tag', 'text', (c) => c.notNull())
          .addColumn('score', t.real, (c) => c.notNull())
          .addColumn('updated_at', t.ts, (c) => c.notNull())
          .addPrimaryKeyConstraint('interest_tags_pk', ['subject_id', 'tag'])
          .execute();
        await db.schema
          .createTable('interest_tag_suppressions')
          .ifNotExists()
          .addColumn('subject_id', 'text', (c) => c.notNull())
          .addColumn('tag', 'text', (c) => c.notNull())
          .addColumn('deleted_at', t.ts, (c) => c.notNull())
          .addPrimaryKeyConstraint('interest_tag_suppressions_pk', ['subject_id', 'tag'])
          .execute();
        await db.schema
          .createTable('profile_settings')
          .ifNotExists()
          .addColumn('subject_id', 'text', (c) => c.primaryKey())
          .addColumn('personalization', t.bool, (c) => c.notNull())
          .addColumn('restricted', t.bool, (c) => c.notNull().defaultTo(0))
          .addColumn('updated_at', t.ts, (c) => c.notNull())
          .execute();
      },
    },
  };
}
