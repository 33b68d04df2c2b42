import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { openSqliteStateStore } from '../../storage/index.ts';
import type { StateStore } from '../../storage/ports.ts';
import { makeTempDir } from '../../storage/testing.ts';
import { createChatbotService } from './chatbot.service.ts';
import { chatbotMigrations, createChatStore } from './store.ts';

type Completion = { model: string; messages: { role: string; content: string }[] };

/** A local server speaking the OpenAI chat-completions protocol; `answer` decides what it says. */
async function llmServer(answer: (req: Completion) => string | number) {
  const seen: { auth: string | undefined; body: Completion }[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      if (req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(raw) as Completion;
      seen.push({ auth: req.headers.authorization, body });
      const out = answer(body);
      if (typeof out === 'number') {
        res.writeHead(out, { 'content-type': 'application/json' }).end('{"error":{"message":"down"}}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: out }, finish_reason: 'stop' }],
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('LLM phrasing of FAQ answers (OpenAI-compatible endpoint)', () => {
  const dir = makeTempDir('candor-chat-llm');
  let state: StateStore;
  let reply: string | number = 'Delivery takes 2–4 working days [1].';
  let llm: Awaited<ReturnType<typeof llmServer>>;
  const service = () =>
    createChatbotService(
      {
        store: createChatStore(state),
        clock: fixedClock('2025-01-01T00:00:00Z'),
        logger: silentLogger(),
        ports: {},
      },
      { llm: { baseUrl: llm.baseUrl, model: 'local-model', apiKey: 'sk-test' } },
    );
  beforeAll(async () => {
    llm = await llmServer(() => reply);
    state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
    await state.migrate(chatbotMigrations(state));
  });
  afterAll(async () => {
    await state.close();
    await llm.close();
    dir.cleanup();
  });
  const ask = (text: string) => service().handleMessage({ text, subjectId: null, channel: 'rest' });

  it('phrases the answer, cites its source, and sends only FAQ passages and the redacted turn', async () => {
    const before = llm.seen.length;
    const r = await ask('how long does shipping take? mail me at ana@example.com or +62 812 3456 7890');
    const sent = llm.seen.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.auth).toBe('Bearer sk-test');
    expect(sent[0]!.body.model).toBe('local-model');
    const wire = JSON.stringify(sent[0]!.body);
    expect(wire).not.toContain('ana@example.com');
    expect(wire).not.toContain('3456 7890');
    expect(wire).toMatch(/\[1\]/);
    expect(r.replies[0]!.text).toBe('Delivery takes 2–4 working days.');
    expect(r.replies[0]!.source?.url).toMatch(/^https?:|^\//);
  });

  it('falls back to the FAQ text when the model cites nothing, declines, or fails', async () => {
    for (const bad of ['Delivery is free and instant.', 'NO_ANSWER', 'See [7].', 503]) {
      reply = bad;
      const r = await ask('how long does shipping take?');
      expect(r.replies[0]!.text).not.toContain('instant');
      expect(r.replies[0]!.text).toMatch(/deliver|ship/i);
      expect(r.replies[0]!.source).toBeDefined();
    }
  });

  it('is never called for a message retrieval cannot answer', async () => {
    const before = llm.seen.length;
    await ask('what is the capital of france');
    expect(llm.seen.length).toBe(before);
  });
});
