/**
 * Optional answer phrasing through an OpenAI-compatible chat-completions endpoint (off unless configured).
 * Only two things leave Candor: the FAQ passages retrieval found and the shopper's current message, with
 * personal data redacted first — never the transcript, the shopper's identity or any order data. The model
 * must cite one of the numbered passages as `[n]`; an answer without a valid citation, an error or a timeout
 * falls back to the retrieved FAQ text, so the bot never states something no shop page says.
 */
import { redact } from './nlu/entities.ts';
import type { FaqEntry } from './faq.ts';
import type { Lang } from './nlu/text.ts';

export type LlmConfig = {
  /** Base URL up to the API version, e.g. https://api.example.com/v1 (POST {baseUrl}/chat/completions). */
  baseUrl: string;
  model: string;
  apiKey?: string | undefined;
  /** Give up and fall back after this long; default 4000 ms. */
  timeoutMs?: number | undefined;
};

export type Phrased = { text: string; source: { title: string; url: string } };

export type Phraser = {
  phrase(input: { question: string; passages: readonly FaqEntry[]; lang: Lang }): Promise<Phrased | null>;
};

const LANG_NAMES: Record<Lang, string> = {
  en: 'English',
  id: 'Indonesian',
  'zh-Hans': 'Simplified Chinese',
  'zh-Hant': 'Traditional Chinese',
  other: 'the language of the question',
};

/** What is sent: numbered passages and the redacted question; exported so tests can check what leaves. */
export function buildMessages(input: {
  question: string;
  passages: readonly FaqEntry[];
  lang: Lang;
}): { role: 'system' | 'user'; content: string }[] {
  const passages = input.passages
    .map((p, i) => `[${i + 1}] ${p.title}\nQ: ${redact(p.question)}\nA: ${redact(p.answer)}`)
    .join('\n\n');
  return [
    {
      role: 'system',
      content:
        'You are a shop assistant. Answer only from the numbered passages. Cite the passage you used as [n]. ' +
        'If the passages do not answer the question, reply exactly NO_ANSWER. Never ask for passwords, card ' +
        `numbers or one-time codes. Reply in ${LANG_NAMES[input.lang]}, in at most three sentences.`,
    },
    { role: 'user', content: `Passages:\n${passages}\n\nQuestion: ${redact(input.question)}` },
  ];
}

export function createPhraser(config: LlmConfig, fetchImpl: typeof fetch = fetch): Phraser {
  const url = `${config.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  return {
    async phrase(input) {
      if (input.passages.length === 0) return null;
      let content: unknown;
      try {
        const res = await fetchImpl(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}),
          },
          body: JSON.stringify({
            model: config.model,
            messages: buildMessages(input),
            temperature: 0,
            max_tokens: 300,
          }),
          signal: AbortSignal.timeout(config.timeoutMs ?? 4000),
        });
        if (!res.ok) return null;
        const body = (await res.json()) as { choices?: { message?: { content?: unknown } }[] };
        content = body.choices?.[0]?.message?.content;
      } catch {
        return null;
      }
      if (typeof content !== 'string' || content.includes('NO_ANSWER')) return null;
      // The first valid citation names the source shown; no valid citation means no grounded answer.
      const cited = [...content.matchAll(/\[(\d{1,2})\]/g)]
        .map((m) => Number(m[1]))
        .find((n) => n >= 1 && n <= input.passages.length);
      if (cited === undefined) return null;
      const passage = input.passages[cited - 1]!;
      const text = redact(content.replace(/\s*\[\d{1,2}\]/g, '').trim()).slice(0, 1000);
      if (!text) return null;
      return { text, source: { title: passage.title, url: passage.url } };
    },
  };
}
