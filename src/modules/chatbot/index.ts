/** The chatbot module's public surface: the module factory, its ports, the NLU and its evaluation. */
export {
  createChatbotModule,
  DEFAULT_CHAT_RETENTION_DAYS,
  type ChatbotConfig,
  type ChatbotDeps,
  type ChatbotModule,
} from './chatbot.module.ts';
export type { ChatbotPorts, ChatbotService, ChatProduct, MessageResult, Reply } from './chatbot.service.ts';
export { DEFAULT_FAQ, createFaqIndex, type FaqEntry } from './faq.ts';
export {
  OOS,
  decide,
  trainIntentModel,
  type Candidate,
  type Classification,
  type Example,
  type IntentModel,
  type Thresholds,
  type TrainOptions,
} from './nlu/classifier.ts';
export {
  ExamplesFileError,
  carveValidation,
  evaluateNlu,
  parseDelimited,
  readExamples,
  tuneThresholds,
  type NluReport,
} from './nlu/evaluate.ts';
export { detectSecrets, extractEntities, redact, type Entity } from './nlu/entities.ts';
export {
  LANGUAGES as CHAT_LANGUAGES,
  detectLanguage,
  normalize,
  prepare,
  tokenize,
  type Lang,
} from './nlu/text.ts';
