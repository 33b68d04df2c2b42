/**
 * The conversation engine: understands a message (language, intent, entities), runs forms with slots and
 * re-prompts, answers from the FAQ with its source, falls back (clarify once, then hand off) and keeps the
 * hand-off state machine bot → pending → agent → resolved. Everything stored is redacted first.
 */
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { Logger } from '../../kernel/logger.ts';
import { SHOP_INTENTS, shopTrainingExamples, type ShopIntent } from './dialogue/intents.ts';
import { intentName, say, statusName } from './dialogue/replies.ts';
import { isMessagingChannel, sendText, type ChannelConfig, type MessagingChannel } from './channels.ts';
import { createFaqIndex, DEFAULT_FAQ, type FaqEntry, type FaqIndex } from './faq.ts';
import { createPhraser, type LlmConfig } from './llm.ts';
import { trainIntentModel, type Candidate, type IntentModel } from './nlu/classifier.ts';
import { detectSecrets, extractEntities, redact, type Entity, type ProductName } from './nlu/entities.ts';
import { prepare, type Lang } from './nlu/text.ts';
import type { ChatStore, ConversationRow, ConversationState, MessageRow } from './store.ts';

/** A product as the bot needs it (from the catalogue). */
export type ChatProduct = ProductName & { price: number; currency: string; stock: number };

/** What the chatbot needs from other modules; each is optional and the bot hands off when one is missing. */
export type ChatbotPorts = {
  products?: () => Promise<ChatProduct[]>;
  /**
   * Order status if the order exists and belongs to that e-mail (or to the signed-in subject); null for an
   * unknown order and for a wrong e-mail alike.
   */
  orders?: {
    verify(input: { orderId: string; email: string | null; subjectId: string | null }): Promise<{
      status: string;
      /** The order number as the shop shows it. */
      orderId?: string;
      carrier?: string | null;
      trackingNumber?: string | null;
      trackingUrl?: string | null;
      /** False once the order has left the warehouse (or was cancelled or refunded). */
      cancellable?: boolean;
    } | null>;
  };
  recommend?: (input: {
    subjectId: string | null;
    productId: string | null;
    limit: number;
  }) => Promise<{ title: string }[]>;
  fraud?: {
    openCase(input: {
      subjectId: string | null;
      conversationId: string;
      summary: string;
    }): Promise<{ caseId: string }>;
  };
  loyalty?: { balance(subjectId: string): Promise<number> };
  personalization?: { disable(subjectId: string): Promise<void> };
};

export type ChannelName = 'web' | 'rest' | 'whatsapp' | 'instagram';

export type Reply = {
  text: string;
  source?: { title: string; url: string };
  /** The stored message (set on the replies `handleMessage` returns). */
  messageId?: string;
};

/** A reply as a messaging channel shows it: plain text, the source's title and link on a line of their own. */
const channelText = (r: Reply) => (r.source ? `${r.text}\n${r.source.title}: ${r.source.url}` : r.text);

export type MessageResult = {
  conversationId: string;
  state: ConversationState;
  lang: Lang;
  intent: string | null;
  confidence: number;
  candidates: Candidate[];
  entities: Entity[];
  replies: Reply[];
  handedOff: boolean;
  /** Set when this was a retry of a message already handled: the replies are the ones given then. */
  replayed?: boolean;
};

/** Seals a messaging address (the platform's sender and the shop's account) for storing, and opens it. */
export type AddressSealer = { seal(plain: string): string; open(sealed: string): string };

/** The jobs/outbox table, as far as agent-reply delivery needs it. */
export type ChatJobs = {
  enqueue(
    kind: string,
    payload: unknown,
    options?: { uniqueKey?: string; maxAttempts?: number },
  ): Promise<{ id: string; created: boolean }>;
};

export type ChatbotServiceDeps = {
  store: ChatStore;
  clock: Clock;
  logger: Logger;
  ports: ChatbotPorts;
  fetch?: typeof fetch;
  /** Agent replies to messaging channels go through the outbox (retries with backoff). */
  jobs?: ChatJobs;
  sealer?: AddressSealer;
};

/** The outbox job that sends one agent message to WhatsApp or Instagram. */
export const CHAT_DELIVER_JOB = 'chatbot.deliver';
const DELIVER_MAX_ATTEMPTS = 8;
export type ChatbotServiceConfig = {
  faq?: FaqEntry[];
  confidence?: number;
  margin?: number;
  /** Optional LLM phrasing of FAQ answers (off when absent). */
  llm?: LlmConfig;
  /** Messaging channels agent replies are delivered to. */
  channels?: Partial<Record<MessagingChannel, ChannelConfig>> | undefined;
};

type Form = { name: 'order_status' | 'cancel_order'; orderId?: string; email?: string; attempts: number };

const FAQ_MIN_SCORE = 2;
const FORM_MAX_ATTEMPTS = 3;
/** Failed order verifications per conversation before the bot stops checking and hands off. */
export const MAX_VERIFY_FAILURES = 3;
const PRODUCT_CACHE_MS = 5 * 60_000;

export function createChatbotService(deps: ChatbotServiceDeps, config: ChatbotServiceConfig = {}) {
  const { store, clock, ports } = deps;
  const model: IntentModel = trainIntentModel(shopTrainingExamples(), { epochs: 30, seed: 11 });
  // The built-in set is too small to carve a validation split from; these values were chosen on it by hand.
  model.thresholds = { confidence: config.confidence ?? 0.3, margin: config.margin ?? 0.05 };
  let faq: FaqIndex = createFaqIndex(config.faq ?? DEFAULT_FAQ);
  const phraser = config.llm ? createPhraser(config.llm, deps.fetch) : null;
  let productCache: { at: number; list: ChatProduct[] } | null = null;

  async function products(): Promise<ChatProduct[]> {
    if (!ports.products) return [];
    const now = clock.now().getTime();
    if (!productCache || now - productCache.at > PRODUCT_CACHE_MS)
      productCache = { at: now, list: await ports.products() };
    return productCache.list;
  }

  const now = () => clock.now().getTime();

  async function record(
    conv: ConversationRow,
    role: MessageRow['role'],
    text: string,
    extra: Partial<MessageRow> = {},
  ): Promise<string> {
    const id = extra.id ?? newId('msg');
    await store.insertMessage({
      conversation_id: conv.id,
      subject_id: conv.subject_id,
      role,
      // What shoppers and agents write is redacted; the bot's own replies are kept as said (and sent again
      // as said by the outbox): they hold no secret a shopper typed, since the optional phrasing model only
      // sees redacted text, while masking them would turn order and tracking numbers into "[phone]".
      text: role === 'bot' ? text : redact(text),
      intent: null,
      confidence: null,
      client_message_id: null,
      created_at: now(),
      delivered_at: null,
      outgoing_sealed: null,
      ...extra,
      id,
    });
    return id;
  }

  /**
   * Sends one stored agent or bot message on its messaging channel, to `address` when the caller has it in
   * hand (a webhook being answered), else to the sender sealed on the conversation (the outbox). A message
   * already delivered, or not on a messaging channel, is left alone; a failure throws (the outbox retries).
   * The text sent is what the bot said or the agent wrote (the transcript keeps an agent's text redacted).
   */
  async function sendStored(
    messageId: string,
    address?: { channel: MessagingChannel; from: string; to: string },
  ): Promise<void> {
    const msg = await store.getMessage(messageId);
    if (!msg || msg.delivered_at !== null || (msg.role !== 'agent' && msg.role !== 'bot')) return;
    const conv = await store.getConversation(msg.conversation_id);
    if (!conv || !isMessagingChannel(conv.channel)) return;
    const channel = conv.channel;
    const channelConfig = config.channels?.[channel];
    if (!channelConfig)
      throw new Error(`the ${channel} channel is not configured; the reply waits for a retry`);
    let to = address;
    if (!to) {
      if (!conv.channel_address) return;
      if (!deps.sealer)
        throw new Error(`no sealer to open the ${channel} sender; the reply waits for a retry`);
      to = {
        channel,
        ...(JSON.parse(deps.sealer.open(conv.channel_address)) as { from: string; to: string }),
      };
    }
    // An agent's reply goes out as written (its transcript text is redacted); the bot's is stored as said.
    const text =
      msg.outgoing_sealed !== null && deps.sealer ? deps.sealer.open(msg.outgoing_sealed) : msg.text;
    const sent = await sendText(channelConfig, to, text, deps.fetch);
    if (!sent.ok) throw new Error(`${channel} send failed: ${sent.status} ${sent.error}`);
    await store.markDelivered(messageId, now());
  }

  /** One outbox job per message (its unique key keeps a second enqueue from sending twice). */
  const queueDelivery = (jobs: ChatJobs, messageId: string) =>
    jobs.enqueue(
      CHAT_DELIVER_JOB,
      { messageId },
      { uniqueKey: `chat-deliver:${messageId}`, maxAttempts: DELIVER_MAX_ATTEMPTS },
    );

  async function handOff(conv: ConversationRow, reason: string): Promise<boolean> {
    // Conditional transition: a retried or concurrent request finds the state moved and does nothing.
    const moved = await store.transition(conv.id, ['bot'], {
      state: 'pending',
      handoff_reason: reason,
      form: null,
      updated_at: now(),
    });
    if (moved) conv.state = 'pending';
    return moved;
  }

  async function runForm(
    conv: ConversationRow,
    form: Form,
    lang: Lang,
    entities: Entity[],
    text: string,
  ): Promise<{ replies: Reply[]; done: boolean; handedOff: boolean }> {
    const orderEntity = entities.find((e) => e.type === 'order_id');
    const emailEntity = entities.find((e) => e.type === 'email');
    const orderId = orderEntity ? String(orderEntity.value) : undefined;
    const email = emailEntity ? String(emailEntity.value) : undefined;
    if (orderId) form.orderId = orderId;
    if (email) form.email = email;
    // A bare token such as "12345678" answers the order-number prompt.
    if (!form.orderId && /^\s*#?[A-Za-z]{0,4}-?\d{4,12}\s*$/.test(text))
      form.orderId = text.trim().replace(/^#/, '').toUpperCase();
    const save = async (f: Form | null) =>
      store.updateConversation(conv.id, { form: f ? JSON.stringify(f) : null, updated_at: now() });
    if (!form.orderId) {
      form.attempts++;
      if (form.attempts > FORM_MAX_ATTEMPTS)
        return {
          replies: [{ text: say('handoff', lang) }],
          done: true,
          handedOff: await handOff(conv, 'form_failed'),
        };
      await save(form);
      return {
        replies: [{ text: say(form.attempts > 1 ? 'bad_order_id' : 'ask_order_id', lang) }],
        done: false,
        handedOff: false,
      };
    }
    if (!form.email && !conv.subject_id) {
      form.attempts++;
      if (form.attempts > FORM_MAX_ATTEMPTS)
        return {
          replies: [{ text: say('handoff', lang) }],
          done: true,
          handedOff: await handOff(conv, 'form_failed'),
        };
      await save(form);
      const askedBefore = form.attempts > 1 && /@|\S+\s*$/.test(text) && !orderId;
      return {
        replies: [{ text: say(askedBefore ? 'bad_email' : 'ask_email', lang) }],
        done: false,
        handedOff: false,
      };
    }
    await save(null);
    if (!ports.orders)
      return {
        replies: [{ text: say('orders_unavailable', lang) }],
        done: true,
        handedOff: await handOff(conv, 'orders_unavailable'),
      };
    // Guessing order numbers or e-mails ends after a few tries: a person takes over instead.
    if (Number(conv.verify_failures) >= MAX_VERIFY_FAILURES)
      return {
        replies: [{ text: say('order_verify_locked', lang) }],
        done: true,
        handedOff: await handOff(conv, 'verification_failed'),
      };
    const found = await ports.orders.verify({
      orderId: form.orderId,
      email: form.email ?? null,
      subjectId: conv.subject_id,
    });
    if (!found) {
      conv.verify_failures = await store.addVerifyFailure(conv.id);
      if (Number(conv.verify_failures) >= MAX_VERIFY_FAILURES)
        return {
          replies: [{ text: say('order_verify_locked', lang) }],
          done: true,
          handedOff: await handOff(conv, 'verification_failed'),
        };
      return { replies: [{ text: say('order_not_verified', lang) }], done: true, handedOff: false };
    }
    const order = found.orderId ?? form.orderId;
    const status = statusName(found.status, lang);
    await store.updateConversation(conv.id, { order_id: order });
    conv.order_id = order;
    if (form.name === 'cancel_order') {
      if (found.cancellable === false)
        return {
          replies: [{ text: say('order_not_cancellable', lang, { order, status }) }],
          done: true,
          handedOff: false,
        };
      const handedOff = await handOff(conv, 'cancel_order');
      return { replies: [{ text: say('cancel_order', lang, { order }) }], done: true, handedOff };
    }
    let answer = say('order_status', lang, { order, status });
    if (found.trackingNumber)
      answer += ` ${
        found.carrier
          ? say('order_tracking', lang, { carrier: found.carrier, tracking: found.trackingNumber })
          : say('order_tracking_number', lang, { tracking: found.trackingNumber })
      }`;
    const reply: Reply = found.trackingUrl
      ? {
          text: answer,
          source: { title: found.carrier ?? found.trackingNumber ?? order, url: found.trackingUrl },
        }
      : { text: answer };
    return { replies: [reply], done: true, handedOff: false };
  }

  async function faqReply(text: string, lang: Lang): Promise<Reply | null> {
    const hits = faq.search(text, lang, 3).filter((h) => h.score >= FAQ_MIN_SCORE);
    const hit = hits[0];
    if (!hit) return null;
    if (phraser) {
      const phrased = await phraser.phrase({ question: text, passages: hits.map((h) => h.entry), lang });
      if (phrased) return phrased;
    }
    return {
      text: say('faq', lang, { answer: hit.entry.answer, source: hit.entry.title }),
      source: { title: hit.entry.title, url: hit.entry.url },
    };
  }

  async function answerIntent(
    conv: ConversationRow,
    intent: ShopIntent,
    lang: Lang,
    text: string,
    entities: Entity[],
  ): Promise<{ replies: Reply[]; handedOff: boolean }> {
    const r = (key: Parameters<typeof say>[0], vars?: Record<string, string | number>) => ({
      replies: [{ text: say(key, lang, vars) }],
      handedOff: false,
    });
    switch (intent) {
      case 'greet':
        return r('greet');
      case 'thanks':
        return r('thanks');
      case 'order_status':
      case 'cancel_order': {
        const res = await runForm(conv, { name: intent, attempts: 0 }, lang, entities, text);
        return { replies: res.replies, handedOff: res.handedOff };
      }
      case 'shipping':
      case 'returns_refunds':
      case 'payment_problem': {
        const hit = await faqReply(text, lang);
        if (hit) return { replies: [hit], handedOff: false };
        return {
          replies: [{ text: say('handoff', lang) }],
          handedOff: await handOff(conv, `no_answer:${intent}`),
        };
      }
      case 'product_question': {
        const pid = entities.find((e) => e.type === 'product');
        const p = pid ? (await products()).find((x) => x.id === pid.value) : undefined;
        if (!p) return r('ask_product');
        return r('product', {
          title: pid!.type === 'product' ? pid!.title : p.id,
          price: p.price / 100,
          currency: p.currency,
          stock: say(p.stock > 0 ? 'in_stock' : 'out_of_stock', lang),
        });
      }
      case 'recommendations': {
        if (!ports.recommend) return r('recommendations_generic');
        const pid = entities.find((e) => e.type === 'product');
        const items = await ports.recommend({
          subjectId: conv.subject_id,
          productId: pid ? String(pid.value) : null,
          limit: 3,
        });
        return items.length === 0
          ? r('recommendations_generic')
          : r('recommendations', { items: items.map((i) => i.title).join(', ') });
      }
      case 'loyalty_balance':
        if (!conv.subject_id) return r('login_needed');
        if (!ports.loyalty)
          return {
            replies: [{ text: say('handoff', lang) }],
            handedOff: await handOff(conv, 'loyalty_unavailable'),
          };
        return r('loyalty', { points: await ports.loyalty.balance(conv.subject_id) });
      case 'report_fraud': {
        const opened = ports.fraud
          ? await ports.fraud.openCase({
              subjectId: conv.subject_id,
              conversationId: conv.id,
              summary: redact(text),
            })
          : null;
        const handedOff = await handOff(conv, 'fraud_report');
        return { replies: [{ text: say('fraud', lang, { case: opened?.caseId ?? '-' }) }], handedOff };
      }
      case 'privacy_export':
        return r('privacy_export');
      case 'privacy_delete':
        return r('privacy_delete');
      case 'unsubscribe':
        return r('unsubscribe');
      case 'personalization_off':
        if (conv.subject_id && ports.personalization) {
          await ports.personalization.disable(conv.subject_id);
          return r('personalization_done');
        }
        return r('personalization_off');
      case 'human_agent':
        return { replies: [{ text: say('handoff', lang) }], handedOff: await handOff(conv, 'requested') };
    }
  }

  async function openConversation(input: {
    conversationId?: string | undefined;
    threadId?: string | undefined;
    subjectId: string | null;
    channel: ChannelName;
    lang: Lang;
    address?: { from: string; to: string } | undefined;
  }): Promise<ConversationRow> {
    // Where agent replies go on a messaging channel, sealed; only with a sealer (never in the clear).
    const sealed = input.address && deps.sealer ? deps.sealer.seal(JSON.stringify(input.address)) : null;
    if (input.threadId) {
      // Messaging channels have no conversation ids of their own: one sender is one continuing thread.
      const found = await store.getConversation(input.threadId);
      if (found) {
        if (found.channel_address === null && sealed !== null) {
          await store.updateConversation(found.id, { channel_address: sealed });
          found.channel_address = sealed;
        }
        return found;
      }
    } else if (input.conversationId) {
      const found = await store.getConversation(input.conversationId);
      if (!found)
        throw new AppError(
          'not_found',
          'No such conversation; start a new one by leaving out conversationId.',
        );
      // A token-bound conversation is only readable with the same shopper token.
      if (found.subject_id && found.subject_id !== input.subjectId)
        throw new AppError(
          'not_found',
          'No such conversation; start a new one by leaving out conversationId.',
        );
      return found;
    }
    const row: ConversationRow = {
      id: input.threadId ?? newId('conv'),
      subject_id: input.subjectId,
      channel: input.channel,
      lang: input.lang,
      state: 'bot',
      handoff_reason: null,
      agent_id: null,
      form: null,
      fallbacks: 0,
      csat: null,
      created_at: now(),
      updated_at: now(),
      order_id: null,
      verify_failures: 0,
      channel_address: sealed,
    };
    try {
      await store.insertConversation(row);
    } catch (e) {
      // Two deliveries from a new sender at once: the other one created the thread first.
      const raced = input.threadId ? await store.getConversation(input.threadId) : undefined;
      if (raced) return raced;
      throw e;
    }
    return row;
  }

  return {
    model,
    setFaq(entries: FaqEntry[]) {
      faq = createFaqIndex(entries);
    },

    /** Understanding only (no state): language, intent with candidates, entities. */
    async understand(text: string) {
      const prepared = prepare(text);
      const c = model.classify(prepared);
      return { lang: prepared.lang, ...c, entities: extractEntities(text, await products()) };
    },

    async handleMessage(input: {
      conversationId?: string | undefined;
      text: string;
      clientMessageId?: string | undefined;
      /** A stable conversation id derived from a messaging channel's sender (created on first use). */
      threadId?: string | undefined;
      /** Messaging channels: the sender and the shop's account, stored sealed for agent replies. */
      address?: { from: string; to: string } | undefined;
      subjectId: string | null;
      channel: ChannelName;
    }): Promise<MessageResult> {
      const prepared = prepare(input.text);
      const conv = await openConversation({
        ...input,
        lang: prepared.lang === 'other' ? 'en' : prepared.lang,
      });
      const lang: Lang = prepared.lang === 'other' ? (conv.lang as Lang) : prepared.lang;
      const base = {
        conversationId: conv.id,
        lang,
        intent: null,
        confidence: 0,
        candidates: [],
        entities: [],
        handedOff: false,
      };
      if (input.clientMessageId) {
        // A retry of a message already handled: answer with what was said then, change nothing.
        const prior = await store.messageByClientId(conv.id, input.clientMessageId);
        if (prior) {
          const all = await store.messages(conv.id);
          const replies = all
            .filter((m) => m.client_message_id?.startsWith(`${input.clientMessageId}#`))
            .map((m) => ({ text: m.text, messageId: m.id }));
          return {
            ...base,
            state: conv.state,
            intent: prior.intent,
            confidence: prior.confidence ?? 0,
            replies,
            replayed: true,
          };
        }
      }
      const secrets = detectSecrets(input.text);
      const entities = extractEntities(input.text, await products());
      const classification = model.classify(prepared);
      const storeShopper = (intent: string | null, confidence: number | null) =>
        record(conv, 'shopper', input.text, {
          intent,
          confidence,
          client_message_id: input.clientMessageId ?? null,
        });

      if (conv.state === 'pending' || conv.state === 'agent') {
        // The bot never speaks while a person owns (or is about to own) the conversation.
        await storeShopper(null, null);
        await store.updateConversation(conv.id, { updated_at: now() });
        return { ...base, state: conv.state, entities, replies: [] };
      }
      if (conv.state === 'resolved') {
        await store.transition(conv.id, ['resolved'], {
          state: 'bot',
          handoff_reason: null,
          agent_id: null,
          fallbacks: 0,
          updated_at: now(),
        });
        conv.state = 'bot';
        conv.fallbacks = 0;
      }
      const replies: Reply[] = [];
      let handedOff = false;
      if (secrets.length > 0) replies.push({ text: say('phishing', lang) });

      const form = conv.form ? (JSON.parse(conv.form) as Form) : null;
      const intent = classification.intent;
      // Inside a form, slot answers win unless the shopper clearly changes the subject.
      const switching =
        form &&
        intent !== null &&
        intent !== form.name &&
        classification.confidence >= 0.6 &&
        !entities.some((e) => e.type === 'order_id' || e.type === 'email');
      if (form && !switching) {
        await storeShopper(form.name, classification.confidence);
        const res = await runForm(conv, form, lang, entities, input.text);
        replies.push(...res.replies);
        handedOff = res.handedOff;
      } else {
        if (form) await store.updateConversation(conv.id, { form: null });
        await storeShopper(intent, classification.confidence);
        if (intent && (SHOP_INTENTS as readonly string[]).includes(intent)) {
          await store.updateConversation(conv.id, { fallbacks: 0 });
          const res = await answerIntent(conv, intent as ShopIntent, lang, input.text, entities);
          replies.push(...res.replies);
          handedOff = res.handedOff;
        } else {
          const hit = await faqReply(input.text, lang);
          if (hit) replies.push(hit);
          else if (secrets.length === 0) {
            const fallbacks = Number(conv.fallbacks) + 1;
            await store.updateConversation(conv.id, { fallbacks, updated_at: now() });
            if (fallbacks >= 2) {
              handedOff = await handOff(conv, 'fallback');
              replies.push({ text: say('handoff', lang) });
            } else {
              const options = classification.candidates
                .filter((c) => c.confidence >= 0.1)
                .slice(0, 2)
                .map((c) => intentName(c.intent, lang));
              replies.push({
                text:
                  options.length > 0
                    ? say('clarify', lang, { options: options.join(' / ') })
                    : say('clarify_plain', lang),
              });
            }
          }
        }
      }
      for (const [i, r] of replies.entries()) {
        // On a messaging channel the transcript keeps the text as sent there (the outbox sends it again).
        const text = isMessagingChannel(input.channel) ? channelText(r) : r.text;
        r.messageId = await record(conv, 'bot', text, {
          client_message_id: input.clientMessageId ? `${input.clientMessageId}#${i}` : null,
        });
      }
      await store.updateConversation(conv.id, { updated_at: now(), lang });
      return {
        ...base,
        state: conv.state,
        intent,
        confidence: classification.confidence,
        candidates: classification.candidates,
        entities,
        replies,
        handedOff,
      };
    },

    async transcript(conversationId: string, subjectId: string | null, asStaff = false) {
      const conv = await store.getConversation(conversationId);
      if (!conv || (!asStaff && conv.subject_id && conv.subject_id !== subjectId))
        throw new AppError('not_found', 'No such conversation.');
      const messages = await store.messages(conversationId);
      return {
        conversationId,
        state: conv.state,
        handoffReason: conv.handoff_reason,
        orderId: conv.order_id,
        messages: messages.map((m) => ({
          role: m.role,
          text: m.text,
          at: new Date(Number(m.created_at)).toISOString(),
        })),
      };
    },

    async requestHandoff(conversationId: string, reason = 'requested') {
      const conv = await store.getConversation(conversationId);
      if (!conv) throw new AppError('not_found', 'No such conversation.');
      const moved = await handOff(conv, reason);
      return {
        state: moved ? 'pending' : (await store.getConversation(conversationId))!.state,
        handedOff: moved,
      };
    },

    inbox: (limit = 50) => store.inbox(['pending', 'agent'], limit),

    /** An agent takes a pending (or bot) conversation; from now on the bot stays silent. */
    async claim(conversationId: string, agentId: string) {
      const moved = await store.transition(conversationId, ['pending', 'bot'], {
        state: 'agent',
        agent_id: agentId,
        updated_at: now(),
      });
      const conv = await store.getConversation(conversationId);
      if (!conv) throw new AppError('not_found', 'No such conversation.');
      if (!moved && !(conv.state === 'agent' && conv.agent_id === agentId))
        throw new AppError(
          'conflict',
          `The conversation is ${conv.state === 'agent' ? 'owned by another agent' : conv.state}; reload the inbox.`,
        );
      return { state: conv.state, agentId: conv.agent_id };
    },

    /**
     * An agent's reply. On WhatsApp and Instagram it is also queued for delivery through the outbox (one
     * job per message, retried with backoff), since the shopper reads it there, not in the transcript.
     */
    async agentReply(conversationId: string, agentId: string, text: string) {
      await this.claim(conversationId, agentId);
      const conv = (await store.getConversation(conversationId))!;
      const messageId = newId('msg');
      // On a messaging channel the shopper gets what the agent wrote: sealed until delivered.
      const sealer = isMessagingChannel(conv.channel) ? deps.sealer : undefined;
      await record(conv, 'agent', text, {
        id: messageId,
        ...(sealer ? { outgoing_sealed: sealer.seal(text) } : {}),
      });
      await store.updateConversation(conversationId, { updated_at: now() });
      let delivery: 'transcript' | 'queued' | 'unavailable' = 'transcript';
      if (isMessagingChannel(conv.channel)) {
        if (deps.jobs && conv.channel_address !== null && config.channels?.[conv.channel]) {
          await queueDelivery(deps.jobs, messageId);
          delivery = 'queued';
        } else {
          delivery = 'unavailable';
          deps.logger.warn(
            { conversationId, channel: conv.channel },
            'agent reply cannot be sent: the channel is not configured or the sender address is unknown',
          );
        }
      }
      return { state: conv.state, messageId, delivery };
    },

    /**
     * A messaging channel's bot replies, sent at once in order. A reply that cannot be sent now (the Graph
     * API failing or slow to answer) goes to the outbox and is retried with backoff, so a shopper is not
     * left without an answer by one failed call; a reply already delivered is not sent again (a webhook
     * redelivered after a crash sends only what had not gone). Never throws: the webhook must answer 200,
     * or the platform redelivers and the shopper sees repeats.
     */
    async deliverReplies(
      messageIds: readonly string[],
      address: { channel: MessagingChannel; from: string; to: string },
    ): Promise<void> {
      let queue = false;
      for (const messageId of messageIds) {
        // After one reply failed, the later ones wait in the outbox too, so they arrive in order.
        if (!queue) {
          try {
            await sendStored(messageId, address);
            continue;
          } catch (err) {
            deps.logger.warn({ err, messageId }, 'chat reply not sent; queued for another try');
            queue = true;
          }
        }
        try {
          // The outbox reads the sender from the conversation, where it is kept sealed.
          if (!deps.jobs || !deps.sealer) throw new Error('no outbox: the reply cannot be retried');
          await queueDelivery(deps.jobs, messageId);
        } catch (err) {
          deps.logger.error({ err, messageId }, 'chat reply could not be queued for delivery');
        }
      }
    },

    /**
     * The outbox job: sends one agent or bot message through the Graph API. A message already delivered is not
     * sent again; a failure throws, so the job runner retries it with backoff. The text sent is the stored
     * (redacted) text, the same the transcript shows.
     */
    async deliver(payload: unknown): Promise<void> {
      const messageId =
        typeof payload === 'object' && payload !== null
          ? (payload as { messageId?: unknown }).messageId
          : undefined;
      if (typeof messageId !== 'string') return;
      await sendStored(messageId);
    },

    async resolve(conversationId: string) {
      const moved = await store.transition(conversationId, ['bot', 'pending', 'agent'], {
        state: 'resolved',
        form: null,
        updated_at: now(),
      });
      const conv = await store.getConversation(conversationId);
      if (!conv) throw new AppError('not_found', 'No such conversation.');
      return { state: conv.state, changed: moved };
    },

    async rate(conversationId: string, subjectId: string | null, up: boolean) {
      const conv = await store.getConversation(conversationId);
      if (!conv || (conv.subject_id && conv.subject_id !== subjectId))
        throw new AppError('not_found', 'No such conversation.');
      await store.updateConversation(conversationId, { csat: up ? 1 : 0 });
      return { ok: true };
    },

    /** Aggregates only: no transcript text leaves, FAQ gaps are keyword clusters of at least `k` messages. */
    async analytics(days: number, k = 3) {
      const from = now() - days * 86_400_000;
      const { convs, msgs } = await store.since(from);
      const intents: Record<string, number> = {};
      const byDay: Record<string, number> = {};
      for (const m of msgs) {
        const key = m.intent ?? 'unrecognised';
        intents[key] = (intents[key] ?? 0) + 1;
        const day = new Date(Number(m.created_at)).toISOString().slice(0, 10);
        byDay[day] = (byDay[day] ?? 0) + 1;
      }
      const handedOff = convs.filter((c) => c.handoff_reason !== null || c.agent_id !== null);
      const reasons: Record<string, number> = {};
      for (const c of handedOff) {
        const r = c.handoff_reason ?? 'agent_took_over';
        reasons[r] = (reasons[r] ?? 0) + 1;
      }
      const rated = convs.filter((c) => c.csat !== null);
      const up = rated.filter((c) => Number(c.csat) === 1).length;
      const clusters = new Map<string, number>();
      for (const m of msgs) {
        if (m.intent !== null) continue;
        const words = prepare(m.text).tokens.filter((t) => t.length > 2 && !t.startsWith('['));
        const sig = [...new Set(words)].sort().slice(0, 3).join(' ');
        if (sig) clusters.set(sig, (clusters.get(sig) ?? 0) + 1);
      }
      return {
        days,
        conversations: convs.length,
        shopperMessages: msgs.length,
        messagesByDay: byDay,
        intents,
        containmentRate: convs.length === 0 ? null : 1 - handedOff.length / convs.length,
        handoffRate: convs.length === 0 ? null : handedOff.length / convs.length,
        handoffReasons: reasons,
        csat: { up, down: rated.length - up, score: rated.length === 0 ? null : up / rated.length },
        faqGaps: [...clusters]
          .filter(([, n]) => n >= k)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 20)
          .map(([keywords, count]) => ({ keywords, count })),
      };
    },
  };
}

export type ChatbotService = ReturnType<typeof createChatbotService>;
