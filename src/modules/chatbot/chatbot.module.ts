import type { Clock } from '../../kernel/clock.ts';
import type { Context } from 'hono';
import type { AppEnv, Guards } from '../../kernel/http.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { CandorModule } from '../../kernel/module.ts';
import type { StateStore } from '../../storage/ports.ts';
import type { PersonalDataHolder } from '../privacy/index.ts';
import type { ChannelConfig, MessagingChannel } from './channels.ts';
import { mountChatbotRoutes, type ChatRateLimit } from './chatbot.routes.ts';
import {
  CHAT_DELIVER_JOB,
  createChatbotService,
  type AddressSealer,
  type ChatbotPorts,
  type ChatbotService,
  type ChatJobs,
} from './chatbot.service.ts';
import type { FaqEntry } from './faq.ts';
import type { LlmConfig } from './llm.ts';
import { chatbotMigrations, createChatStore } from './store.ts';

export type ChatbotDeps = {
  state: StateStore;
  clock: Clock;
  logger: Logger;
  guards: Guards;
  /** Where the transcript holder registers (privacy's registry). */
  registry?: { register(holder: PersonalDataHolder): void };
  /** The auth module's rate-limit middleware factory; without it the chat routes are unlimited. */
  rateLimit?: ChatRateLimit;
  /** A pseudonym of the caller's IP, so anonymous shoppers behind one write key get their own buckets. */
  clientKey?: (c: Context<AppEnv>) => string;
  /** Outbound HTTP for messaging channels (tests point it at a local server through `baseUrl` instead). */
  fetch?: typeof fetch;
  /** The jobs/outbox table: agent replies to WhatsApp/Instagram are delivered (and retried) through it. */
  jobs?: ChatJobs;
  /** Seals messaging addresses with the key ring; without it agent replies stay in the transcript only. */
  sealer?: AddressSealer;
} & ChatbotPorts;

export type ChatbotConfig = {
  /** Days a conversation is kept after its last message. */
  retentionDays?: number;
  faq?: FaqEntry[];
  /** WhatsApp Cloud API / Instagram Messaging webhooks; a channel without config answers 404. */
  channels?: Partial<Record<MessagingChannel, ChannelConfig>>;
  /** OpenAI-compatible endpoint that phrases FAQ answers; off when absent. */
  llm?: LlmConfig;
};

export type ChatbotModule = CandorModule & {
  readonly service: ChatbotService;
  readonly holder: PersonalDataHolder;
};

export const DEFAULT_CHAT_RETENTION_DAYS = 180;

export function createChatbotModule(deps: ChatbotDeps, config: ChatbotConfig = {}): ChatbotModule {
  const store = createChatStore(deps.state);
  const {
    state: _s,
    clock,
    logger,
    guards: _g,
    registry,
    rateLimit: _r,
    clientKey: _k,
    fetch: _f,
    jobs,
    sealer,
    ...ports
  } = deps;
  const service = createChatbotService(
    {
      store,
      clock,
      logger,
      ports,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      ...(jobs ? { jobs } : {}),
      ...(sealer ? { sealer } : {}),
    },
    {
      ...(config.faq ? { faq: config.faq } : {}),
      ...(config.llm ? { llm: config.llm } : {}),
      channels: config.channels,
    },
  );
  const retentionDays = config.retentionDays ?? DEFAULT_CHAT_RETENTION_DAYS;
  const holder: PersonalDataHolder = {
    describe: () => ({
      name: 'chatbot',
      summary:
        'Your conversations with the shop assistant and its staff, with e-mails, phone numbers, card numbers and codes removed before storing (a staff reply to you on WhatsApp or Instagram is kept encrypted, as written, only until it is delivered).',
      sources: ['what you wrote in the chat', 'replies from the assistant and staff'],
      tables: [
        {
          store: 'state',
          table: 'chat_conversations',
          subjectColumns: ['subject_id'],
          personalColumns: ['channel_address'],
          category: 'chat_transcripts',
          purpose: 'Answering your questions and handing you to staff.',
          retention: `${retentionDays} days after the last message, or until erasure.`,
        },
        {
          store: 'state',
          table: 'chat_messages',
          subjectColumns: ['subject_id'],
          personalColumns: ['text', 'outgoing_sealed'],
          category: 'chat_transcripts',
          purpose: 'The conversation itself, so staff can continue it.',
          retention: `${retentionDays} days after the last message, or until erasure.`,
        },
      ],
      automatedDecisions: [
        {
          name: 'intent detection',
          description: 'An automatic classifier reads each message to pick an answer.',
          effect: 'Which answer you get, or whether a person takes over; never a decision about you.',
        },
      ],
    }),
    async export(subject) {
      const convs = await store.conversationsOf(subject.subjectIds);
      const msgs = await store.messagesOfConversations(convs.map((c) => c.id));
      return {
        tables: {
          chat_conversations: convs.map((c) => ({
            id: c.id,
            channel: c.channel,
            lang: c.lang,
            state: c.state,
            createdAt: new Date(Number(c.created_at)).toISOString(),
          })),
          chat_messages: msgs.map((m) => ({
            conversationId: m.conversation_id,
            role: m.role,
            text: m.text,
            at: new Date(Number(m.created_at)).toISOString(),
          })),
        },
      };
    },
    erase: async (subject) => ({ deleted: await store.eraseSubjects(subject.subjectIds) }),
    purgeExpired: async (dataClass, beforeTs) =>
      dataClass === 'chat_transcripts' ? store.purgeOlderThan(beforeTs) : 0,
  };
  registry?.register(holder);
  return {
    name: 'chatbot',
    service,
    holder,
    migrations: chatbotMigrations(deps.state),
    routes: (router) =>
      mountChatbotRoutes(router, {
        service,
        guards: deps.guards,
        logger,
        rateLimit: deps.rateLimit,
        clientKey: deps.clientKey,
        channels: config.channels,
      }),
    jobs: {
      [CHAT_DELIVER_JOB]: (payload) => service.deliver(payload),
      'chatbot.retention': async () => {
        const n = await store.purgeOlderThan(clock.now().getTime() - retentionDays * 86_400_000);
        if (n > 0) logger.info({ deleted: n }, 'chat transcripts past retention deleted');
      },
    },
    schedules: [{ name: 'chatbot-retention', kind: 'chatbot.retention', everyMs: 86_400_000 }],
  };
}
