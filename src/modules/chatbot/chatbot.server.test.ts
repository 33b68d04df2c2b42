import { afterAll, describe } from 'vitest';
import { requirePgUrl, testPgStateStores } from '../../storage/testing.ts';
import { chatbotContract } from './chatbot.contract.testkit.ts';

describe('chatbot conversations (PostgreSQL)', () => {
  const stores = testPgStateStores(requirePgUrl());
  afterAll(() => stores.closeAll());
  chatbotContract(() => stores.open());
});
