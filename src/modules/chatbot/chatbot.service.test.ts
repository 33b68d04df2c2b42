import path from 'node:path';
import { afterAll, describe } from 'vitest';
import { openSqliteStateStore } from '../../storage/index.ts';
import type { StateStore } from '../../storage/ports.ts';
import { makeTempDir } from '../../storage/testing.ts';
import { chatbotContract } from './chatbot.contract.testkit.ts';

describe('chatbot conversations (SQLite)', () => {
  const dir = makeTempDir('candor-chatbot');
  const stores: StateStore[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
    dir.cleanup();
  });
  let n = 0;
  chatbotContract(async () => {
    const s = await openSqliteStateStore({ file: path.join(dir.path, `state-${n++}.sqlite`) });
    stores.push(s);
    return s;
  });
});
