/**
 * Webhook secrets of shop platforms (Shopify, WooCommerce), per source. HMAC verification needs the secret
 * itself, so it is sealed with a data key wrapped by the key-encryption key, never stored in the clear.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { columnTypes, tablesOf } from '../../storage/index.ts';
import type { StateStore } from '../../storage/ports.ts';

type Num = number | string | bigint;

export type WebhookSecretRow = {
  id: string;
  source_id: string;
  platform: string;
  /** `keyRing.wrap(secret bytes)`: AES-256-GCM under the primary KEK. */
  sealed_secret: string;
  created_at: Num;
  created_by: string;
};

export type WebhookTables = { ingest_webhook_secrets: WebhookSecretRow };

export function webhookMigrations(store: StateStore): Record<string, Migration> {
  const t = columnTypes(store.dialect);
  return {
    'ingest-0005-webhook-secrets': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('ingest_webhook_secrets')
          .ifNotExists()
          .addColumn('id', t.text, (c) => c.primaryKey())
          .addColumn('source_id', t.text, (c) => c.notNull())
          .addColumn('platform', t.text, (c) => c.notNull())
          .addColumn('sealed_secret', t.text, (c) => c.notNull())
          .addColumn('created_at', t.ts, (c) => c.notNull())
          .addColumn('created_by', t.text, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('ingest_webhook_secrets_platform')
          .ifNotExists()
          .on('ingest_webhook_secrets')
          .columns(['platform', 'source_id'])
          .execute();
      },
    },
  };
}

export function webhookDb(store: StateStore): Kysely<WebhookTables> {
  return tablesOf<WebhookTables>(store);
}
