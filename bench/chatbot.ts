// `npm run bench -- chatbot [--runs N]`
// Reply latency of the shop assistant through its service (language id, intent ensemble, entities, forms, FAQ
// retrieval, redaction and the transcript writes) on a real SQLite state store, without an LLM. A mix of
// messages in English, Indonesian and Simplified/Traditional Chinese, each in a fresh or continuing
// conversation, is timed one by one after a warm-up. Target: p95 < 50 ms. Records bench/results/chatbot.json.
import path from 'node:path';
import { systemClock } from '../src/kernel/clock.ts';
import { createLogger } from '../src/kernel/logger.ts';
import { createChatbotService } from '../src/modules/chatbot/chatbot.service.ts';
import { chatbotMigrations, createChatStore } from '../src/modules/chatbot/store.ts';
import { openSqliteStateStore } from '../src/storage/index.ts';
import { makeTempDir } from '../src/storage/testing.ts';
import { median, percentile, printTable, recordResult } from './support.ts';

const args = process.argv.slice(2);
const at = args.indexOf('--runs');
const RUNS = Number(at >= 0 ? args[at + 1] : '1000');

const MESSAGES = [
  'where is my order?',
  'hi there',
  'how long does shipping take to Surabaya?',
  'I want to return the shoes I bought, they are too small',
  'cancel my order please',
  'my payment failed twice with my card',
  'pesanan saya belum sampai kak',
  'bagaimana cara mengembalikan barang?',
  '我的订单在哪里',
  '我要退貨退款',
  'what do you know about me',
  'delete my data',
  'recommend me something for running',
  'what is the capital of france',
  'I want to talk to a human',
  'thanks a lot!',
];

const dir = makeTempDir('candor-bench-chatbot');
const state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
try {
  await state.migrate(chatbotMigrations(state));
  const t0 = performance.now();
  const service = createChatbotService({
    store: createChatStore(state),
    clock: systemClock,
    logger: createLogger({ level: 'silent' }),
    ports: {},
  });
  const startupMs = performance.now() - t0;
  let conversationId: string | undefined;
  const send = async (i: number) => {
    const text = MESSAGES[i % MESSAGES.length]!;
    // Every fourth message starts a new conversation; the others continue one (forms, fallbacks, hand-off).
    if (i % 4 === 0) conversationId = undefined;
    const r = await service.handleMessage({ text, subjectId: null, channel: 'rest', conversationId });
    conversationId = r.state === 'bot' ? r.conversationId : undefined;
  };
  for (let i = 0; i < 100; i++) await send(i);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const s = performance.now();
    await send(i);
    times.push(performance.now() - s);
  }
  const round = (x: number) => Math.round(x * 100) / 100;
  const result = {
    runs: RUNS,
    startupMs: round(startupMs),
    p50Ms: round(median(times)),
    p95Ms: round(percentile(times, 95)),
    p99Ms: round(percentile(times, 99)),
    maxMs: round(Math.max(...times)),
    targetP95Ms: 50,
  };
  printTable([{ ...result }]);
  console.log(`recorded ${recordResult('chatbot', result)}`);
} finally {
  await state.close();
  dir.cleanup();
}
