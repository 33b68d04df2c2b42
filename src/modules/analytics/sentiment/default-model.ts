/**
 * The shipped default sentiment model: trained from the built-in set (builtin.ts) the first time it is
 * needed, then kept for the life of the process (training takes well under a second).
 */
import { builtinSentimentExamples } from './builtin.ts';
import { trainSentimentModel, type SentimentModel } from './model.ts';

let cached: SentimentModel | null = null;

export function defaultSentimentModel(): SentimentModel {
  cached ??= trainSentimentModel(builtinSentimentExamples(), { bits: 18, epochs: 12 });
  return cached;
}
