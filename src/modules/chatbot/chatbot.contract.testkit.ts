/** The conversation behaviour every state store must give (run on SQLite and on PostgreSQL). */
import { expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { createLogger } from '../../kernel/logger.ts';
import type { StateStore } from '../../storage/ports.ts';
import { createChatbotService, type ChatbotPorts } from './chatbot.service.ts';
import { chatbotMigrations, createChatStore } from './store.ts';

export function chatbotContract(open: () => Promise<StateStore>) {
  const setup = async (ports: ChatbotPorts = {}) => {
    const state = await open();
    await state.migrate(chatbotMigrations(state));
    const store = createChatStore(state);
    const service = createChatbotService({
      store,
      clock: fixedClock(new Date('2025-01-01T00:00:00Z')),
      logger: createLogger({ level: 'silent' }),
      ports,
    });
    return { state, store, service };
  };
  const orders: ChatbotPorts['orders'] = {
    verify: async ({ orderId, email }) =>
      orderId === 'ORD-12345' && email === 'ana@example.com' ? { status: 'shipped' } : null,
  };

  it('runs the order-status form with re-prompts and verification, storing only redacted text', async () => {
    const { service, store } = await setup({ orders });
    const a = await service.handleMessage({ text: 'where is my order?', subjectId: null, channel: 'rest' });
    expect(a.intent).toBe('order_status');
    expect(a.replies[0]!.text).toMatch(/order number/);
    const b = await service.handleMessage({
      conversationId: a.conversationId,
      text: 'ORD-12345',
      subjectId: null,
      channel: 'rest',
    });
    expect(b.replies[0]!.text).toMatch(/e-mail/);
    const c = await service.handleMessage({
      conversationId: a.conversationId,
      text: 'it is ana@example.com',
      subjectId: null,
      channel: 'rest',
    });
    expect(c.replies[0]!.text).toBe('Order ORD-12345: shipped.');
    const stored = await store.messages(a.conversationId);
    expect(stored.map((m) => m.text).join(' ')).not.toContain('ana@example.com');
    expect(stored.map((m) => m.text).join(' ')).toContain('[email]');
  });

  it('keeps the bot’s replies as said: a tracking number is stored whole, the shopper’s e-mail is not', async () => {
    const { service, store } = await setup({
      orders: {
        verify: async ({ orderId, email }) =>
          orderId === 'ORD-12345' && email === 'ana@example.com'
            ? { status: 'shipped', carrier: 'JNE', trackingNumber: 'JNE0012345678' }
            : null,
      },
    });
    const a = await service.handleMessage({
      text: 'where is my order ORD-12345?',
      subjectId: null,
      channel: 'rest',
    });
    const c = await service.handleMessage({
      conversationId: a.conversationId,
      text: 'ana@example.com',
      subjectId: null,
      channel: 'rest',
    });
    expect(c.replies.map((r) => r.text).join(' ')).toContain('JNE0012345678');
    const stored = await store.messages(a.conversationId);
    const bot = stored.filter((m) => m.role === 'bot').map((m) => m.text);
    expect(bot).toEqual(expect.arrayContaining(c.replies.map((r) => r.text)));
    expect(bot.join(' ')).not.toContain('[phone]');
    expect(stored.map((m) => m.text).join(' ')).not.toContain('ana@example.com');
  });

  it('stops verifying after three failed tries in a conversation and hands off once', async () => {
    const calls: string[] = [];
    const { service } = await setup({
      orders: {
        verify: async ({ orderId, email }) => {
          calls.push(`${orderId}/${email}`);
          return null;
        },
      },
    });
    let conversationId: string | undefined;
    const ask = async (text: string) => {
      const r = await service.handleMessage({ conversationId, text, subjectId: null, channel: 'rest' });
      conversationId = r.conversationId;
      return r;
    };
    for (let i = 1; i <= 2; i++) {
      await ask(`where is my order ORD-1000${i}`);
      const r = await ask(`guess${i}@example.com`);
      expect(r.replies[0]!.text).toMatch(/could not find an order with that number and e-mail/);
      expect(r.handedOff).toBe(false);
    }
    await ask('where is my order ORD-10003');
    const third = await ask('guess3@example.com');
    expect(third.replies[0]!.text).toMatch(/could not verify that order/);
    expect(third.handedOff).toBe(true);
    expect(third.state).toBe('pending');
    expect(calls).toHaveLength(3);
  });

  it('cancels only an order that has not left, with the order id on the hand-off', async () => {
    const { service, store } = await setup({
      orders: {
        verify: async ({ orderId }) =>
          orderId === 'ORD-22222'
            ? { orderId, status: 'paid', cancellable: true }
            : { orderId, status: 'shipped', cancellable: false, carrier: 'JNE', trackingNumber: 'JN1' },
      },
    });
    const shipped = await service.handleMessage({
      text: 'please cancel order ORD-33333 my email is ana@example.com',
      subjectId: null,
      channel: 'rest',
    });
    expect(shipped.replies[0]!.text).toBe(
      'Order ORD-33333 is already shipped, so it can no longer be cancelled here. Ask me about returns if you want to send it back.',
    );
    expect(shipped.handedOff).toBe(false);
    const ok = await service.handleMessage({
      text: 'please cancel order ORD-22222 my email is ana@example.com',
      subjectId: null,
      channel: 'rest',
    });
    expect(ok.handedOff).toBe(true);
    const conv = (await store.getConversation(ok.conversationId))!;
    expect(conv).toMatchObject({ handoff_reason: 'cancel_order', order_id: 'ORD-22222' });
    const status = await service.handleMessage({
      text: '我的订单 ORD-33333 到哪里了？邮箱 ana@example.com',
      subjectId: null,
      channel: 'rest',
    });
    expect(status.replies[0]!.text).toBe('订单 ORD-33333：已发货。 承运商：JNE，运单号：JN1。');
  });

  it('answers FAQ questions with their source, in the shopper language', async () => {
    const { service } = await setup();
    const r = await service.handleMessage({ text: '退货政策是什么', subjectId: null, channel: 'rest' });
    expect(r.replies[0]!.source?.url).toBe('/pages/returns');
    const t = await service.handleMessage({ text: '退貨政策是什麼', subjectId: null, channel: 'rest' });
    expect(t.lang).toBe('zh-Hant');
    expect(t.replies[0]!.text).toContain('退貨');
  });

  it('clarifies once, then hands off exactly once; the bot stays silent while a person owns it', async () => {
    const { service } = await setup();
    const a = await service.handleMessage({
      text: 'tell me a joke about the moon',
      subjectId: null,
      channel: 'rest',
    });
    expect(a.state).toBe('bot');
    expect(a.handedOff).toBe(false);
    const b = await service.handleMessage({
      conversationId: a.conversationId,
      text: 'who won the football game',
      clientMessageId: 'm2',
      subjectId: null,
      channel: 'rest',
    });
    expect(b.handedOff).toBe(true);
    expect(b.state).toBe('pending');
    const retry = await service.handleMessage({
      conversationId: a.conversationId,
      text: 'who won the football game',
      clientMessageId: 'm2',
      subjectId: null,
      channel: 'rest',
    });
    expect(retry.handedOff).toBe(false);
    expect(retry.replies).toEqual(b.replies);
    expect((await service.requestHandoff(a.conversationId)).handedOff).toBe(false);
    await service.claim(a.conversationId, 'stf_1');
    const silent = await service.handleMessage({
      conversationId: a.conversationId,
      text: 'hello?',
      subjectId: null,
      channel: 'rest',
    });
    expect(silent.replies).toEqual([]);
    await expect(service.claim(a.conversationId, 'stf_2')).rejects.toMatchObject({ code: 'conflict' });
    await service.agentReply(a.conversationId, 'stf_1', 'Hi, I am here.');
    expect((await service.resolve(a.conversationId)).state).toBe('resolved');
    const t = await service.transcript(a.conversationId, null, true);
    expect(t.messages.map((m) => m.role)).toEqual(['shopper', 'bot', 'shopper', 'bot', 'shopper', 'agent']);
  });

  it('warns about phishing and redacts card numbers and passwords', async () => {
    const { service, store } = await setup();
    const r = await service.handleMessage({
      text: 'my card is 4111 1111 1111 1111 and password: hunter2',
      subjectId: null,
      channel: 'rest',
    });
    expect(r.replies[0]!.text).toMatch(/never share passwords/);
    const text = (await store.messages(r.conversationId)).map((m) => m.text).join(' ');
    expect(text).not.toContain('4111');
    expect(text).not.toContain('hunter2');
  });

  it('exports and erases a shopper transcript, and reports only aggregates', async () => {
    const { service, store } = await setup();
    const r = await service.handleMessage({ text: 'talk to a human', subjectId: 'subj_1', channel: 'rest' });
    expect(r.handedOff).toBe(true);
    await service.rate(r.conversationId, 'subj_1', true);
    expect((await store.conversationsOf(['subj_1'])).length).toBe(1);
    const stats = await service.analytics(30);
    expect(stats.handoffReasons).toMatchObject({ requested: 1 });
    expect(stats.csat.up).toBe(1);
    expect(await store.eraseSubjects(['subj_1'])).toBeGreaterThan(0);
    expect(await store.messagesOfConversations([r.conversationId])).toEqual([]);
    expect(await store.eraseSubjects(['subj_1'])).toBe(0);
  });
}
