import { afterAll, describe } from 'vitest';
import { requirePgUrl, testPgStateStores } from '../../storage/testing.ts';
import { erasedSubjectsContract } from './erased-subjects.contract.ts';

describe('subjects erased lately (PostgreSQL)', () => {
  const stores = testPgStateStores(requirePgUrl());
  afterAll(() => stores.closeAll());
  erasedSubjectsContract(() => stores.open());
});
