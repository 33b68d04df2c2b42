/**
 * The chatbot's tables. Transcripts hold only redacted text (emails, phones, card numbers, passwords and
 * codes are replaced before a row is written); a conversation is linked to a shopper only by pseudonym.
 * Hand-off transitions are single conditional UPDATEs, so concurrent retries cannot hand off twice.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { columnTypes, tablesOf } from '../../storage/index.ts';
import type { StateStore } from '../../storage/ports.ts';

type Num = number | string | bigint;

export type ConversationState = 'bot' | 'pending' | 'agent' | 'resolved';

export type ConversationRow = {
  id: string;
  subject_id: string | null;
  channel: string;
  lang: string;
  state: ConversationState;
  handoff_reason: string | null;
  agent_id: string | null;
  /** JSON of the active form and its slots, or null. */
  form: string | null;
  fallbacks: Num;
  csat: Num | null;
  created_at: Num;
  updated_at: Num;
  /** The order a verified cancel request or status question was about (shown to the agent). */
  order_id: string | null;
  /** Failed order verifications in this conversation: after a few, the bot stops trying (no guessing). */
  verify_failures: Num;
  /**
   * Messaging channels: where replies go (the platform's sender and the shop's account), sealed with the
   * key ring, so agent replies can be sent later without a phone number or account id in the clear.
   */
  channel_address: string | null;
};

export type MessageRow = {
  id: string;
  conversation_id: string;
  subject_id: string | null;
  role: 'shopper' | 'bot' | 'agent';
  text: string;
  intent: string | null;
  confidence: number | null;
  client_message_id: string | null;
  created_at: Num;
  /** When an agent's message reached the messaging platform (null: not sent, or not a messaging channel). */
  delivered_at: Num | null;
  /**
   * An agent reply on a messaging channel as written, sealed with the key ring, until it is delivered: the
   * transcript's `text` is redacted, and the shopper must get what the agent wrote. Cleared on delivery.
   */
  outgoing_sealed: string | null;
};

export type ChatTables = { chat_conversations: ConversationRow; chat_messages: MessageRow };

export function chatbotMigrations(store: StateStore): Record<string, Migration> {
  const t = columnTypes(store.dialect);
  return {
    'chatbot-0001-transcripts': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('chat_conversations')
          .ifNotExists()
          .addColumn('id', t.text, (c) => c.primaryKey())
          .addColumn('subject_id', t.text)
          .addColumn('channel', t.text, (c) => c.notNull())
          .addColumn('lang', t.text, (c) => c.notNull())
          .addColumn('state', t.text, (c) => c.notNull())
          .addColumn('handoff_reason', t.text)
          .addColumn('agent_id', t.text)
          .addColumn('form', t.json)
          .addColumn('fallbacks', t.bigint, (c) => c.notNull().defaultTo(0))
          .addColumn('csat', t.bigint)
          .addColumn('created_at', t.ts, (c) => c.notNull())
          .addColumn('updated_at', t.ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('chat_conversations_subject')
          .ifNotExists()
          .on('chat_conversations')
          .column('subject_id')
          .execute();
        await db.schema
          .createIndex('chat_conversations_state')
          .ifNotExists()
          .on('chat_conversations')
          .columns(['state', 'updated_at'])
          .execute();
        await db.schema
          .createTable('chat_messages')
          .ifNotExists()
          .addColumn('id', t.text, (c) => c.primaryKey())
          .addColumn('conversation_id', t.text, (c) => c.notNull())
          .addColumn('subject_id', t.text)
          .addColumn('role', t.text, (c) => c.notNull())
          .addColumn('text', t.text, (c) => c.notNull())
          .addColumn('intent', t.text)
          .addColumn('confidence', t.real)
          .addColumn('client_message_id', t.text)
          .addColumn('created_at', t.ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('chat_messages_conversation')
          .ifNotExists()
          .on('chat_messages')
          .columns(['conversation_id', 'created_at'])
          .execute();
        await db.schema
          .createIndex('chat_messages_client')
          .ifNotExists()
          .unique()
          .on('chat_messages')
          .columns(['conversation_id', 'client_message_id'])
          .execute();
        await db.schema
          .createIndex('chat_messages_subject')
          .ifNotExists()
          .on('chat_messages')
          .column('subject_id')
          .execute();
      },
    },
    'chatbot-0002-orders-and-delivery': {
      async up(db: Kysely<unknown>) {
        // One column per statement: SQLite adds only one at a time.
        await db.schema.alterTable('chat_conversations').addColumn('order_id', t.text).execute();
        await db.schema
          .alterTable('chat_conversations')
          .addColumn('verify_failures', t.bigint, (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.alterTable('chat_conversations').addColumn('channel_address', t.text).execute();
        await db.schema.alterTable('chat_messages').addColumn('delivered_at', t.ts).execute();
      },
    },
    'chatbot-0003-outgoing-sealed': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('chat_messages').addColumn('outgoing_sealed', t.text).execute();
      },
    },
  };
}

export function createChatStore(state: StateStore) {
  const db = tablesOf<ChatTables>(state);
  return {
    db,
    getConversation: (id: string) =>
      db.selectFrom('chat_conversations').selectAll().where('id', '=', id).executeTakeFirst(),
    insertConversation: (row: ConversationRow) => db.insertInto('chat_conversations').values(row).execute(),
    updateConversation: (id: string, patch: Partial<ConversationRow>) =>
      db.updateTable('chat_conversations').set(patch).where('id', '=', id).execute(),
    /** Moves a conversation from one state to another only if it is still in `from`; true when it moved. */
    async transition(
      id: string,
      from: ConversationState[],
      patch: Partial<ConversationRow>,
    ): Promise<boolean> {
      const r = await db
        .updateTable('chat_conversations')
        .set(patch)
        .where('id', '=', id)
        .where('state', 'in', from)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    insertMessage: (row: MessageRow) => db.insertInto('chat_messages').values(row).execute(),
    messageByClientId: (conversationId: string, clientMessageId: string) =>
      db
        .selectFrom('chat_messages')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .where('client_message_id', '=', clientMessageId)
        .executeTakeFirst(),
    getMessage: (id: string) =>
      db.selectFrom('chat_messages').selectAll().where('id', '=', id).executeTakeFirst(),
    /**
     * Marks a message as sent and drops its sealed outgoing copy; false when it already was (a retried
     * delivery sends nothing).
     */
    async markDelivered(id: string, at: number): Promise<boolean> {
      const r = await db
        .updateTable('chat_messages')
        .set({ delivered_at: at, outgoing_sealed: null })
        .where('id', '=', id)
        .where('delivered_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** Counts one failed order verification; returns the new count. */
    async addVerifyFailure(id: string): Promise<number> {
      await db
        .updateTable('chat_conversations')
        .set((eb) => ({ verify_failures: eb('verify_failures', '+', 1) }))
        .where('id', '=', id)
        .execute();
      const row = await db
        .selectFrom('chat_conversations')
        .select('verify_failures')
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(row?.verify_failures ?? 0);
    },
    messages: (conversationId: string) =>
      db
        .selectFrom('chat_messages')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .orderBy('created_at')
        .orderBy('id')
        .execute(),
    inbox: (states: ConversationState[], limit: number) =>
      db
        .selectFrom('chat_conversations')
        .selectAll()
        .where('state', 'in', states)
        .orderBy('updated_at')
        .limit(limit)
        .execute(),
    conversationsOf: (subjectIds: readonly string[]) =>
      subjectIds.length === 0
        ? Promise.resolve([])
        : db
            .selectFrom('chat_conversations')
            .selectAll()
            .where('subject_id', 'in', [...subjectIds])
            .execute(),
    messagesOfConversations: (ids: readonly string[]) =>
      ids.length === 0
        ? Promise.resolve([])
        : db
            .selectFrom('chat_messages')
            .selectAll()
            .where('conversation_id', 'in', [...ids])
            .orderBy('created_at')
            .execute(),
    async eraseSubjects(subjectIds: readonly string[]): Promise<number> {
      if (subjectIds.length === 0) return 0;
      return state.transaction(async (trx) => {
        const tx = trx as Kysely<ChatTables>;
        const convs = await tx
          .selectFrom('chat_conversations')
          .select('id')
          .where('subject_id', 'in', [...subjectIds])
          .execute();
        const ids = convs.map((c) => c.id);
        let n = 0;
        if (ids.length > 0)
          n += Number(
            (await tx.deleteFrom('chat_messages').where('conversation_id', 'in', ids).executeTakeFirst())
              .numDeletedRows,
          );
        n += Number(
          (
            await tx
              .deleteFrom('chat_messages')
              .where('subject_id', 'in', [...subjectIds])
              .executeTakeFirst()
          ).numDeletedRows,
        );
        if (ids.length > 0)
          n += Number(
            (await tx.deleteFrom('chat_conversations').where('id', 'in', ids).executeTakeFirst())
              .numDeletedRows,
          );
        return n;
      });
    },
    async purgeOlderThan(beforeTs: number): Promise<number> {
      return state.transaction(async (trx) => {
        const tx = trx as Kysely<ChatTables>;
        const old = await tx
          .selectFrom('chat_conversations')
          .select('id')
          .where('updated_at', '<', beforeTs)
          .execute();
        const ids = old.map((c) => c.id);
        if (ids.length === 0) return 0;
        let n = Number(
          (await tx.deleteFrom('chat_messages').where('conversation_id', 'in', ids).executeTakeFirst())
            .numDeletedRows,
        );
        n += Number(
          (await tx.deleteFrom('chat_conversations').where('id', 'in', ids).executeTakeFirst())
            .numDeletedRows,
        );
        return n;
      });
    },
    async since(fromTs: number) {
      const convs = await db
        .selectFrom('chat_conversations')
        .selectAll()
        .where('created_at', '>=', fromTs)
        .execute();
      const msgs = await db
        .selectFrom('chat_messages')
        .select(['conversation_id', 'role', 'intent', 'text', 'created_at'])
        .where('created_at', '>=', fromTs)
        .where('role', '=', 'shopper')
        .execute();
      return { convs, msgs };
    },
  };
}

export type ChatStore = ReturnType<typeof createChatStore>;
