import path from 'node:path';
import { afterAll, describe } from 'vitest';
import { openSqliteStateStore } from '../../storage/adapters/sqlite/sqlite.state-store.ts';
import type { StateStore } from '../../storage/ports.ts';
import { makeTempDir } from '../../storage/testing.ts';
import { erasedSubjectsContract } from './erased-subjects.contract.ts';

describe('subjects erased lately (SQLite)', () => {
  const dir = makeTempDir('candor-erased');
  const stores: StateStore[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
    dir.cleanup();
  });
  erasedSubjectsContract(async () => {
    const s = await openSqliteStateStore({ file: path.join(dir.path, `state-${stores.length}.sqlite`) });
    stores.push(s);
    return s;
  });
});
