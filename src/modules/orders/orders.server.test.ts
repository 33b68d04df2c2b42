import { afterAll, describe } from 'vitest';
import { requirePgUrl, testPgStateStores } from '../../storage/testing.ts';
import { ordersContract } from './orders.contract.testkit.ts';

describe('order records (PostgreSQL)', () => {
  const stores = testPgStateStores(requirePgUrl());
  afterAll(() => stores.closeAll());
  ordersContract(() => stores.open());
});
