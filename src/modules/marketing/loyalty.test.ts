import path from 'node:path';
import { openSqliteStateStore } from '../../storage/index.ts';
import { makeTempDir } from '../../storage/testing.ts';
import { loyaltyContract } from './loyalty.contract.testkit.ts';
import { openMarketingHarness } from './marketing.testkit.ts';

loyaltyContract('SQLite', async () => {
  const dir = makeTempDir('candor-loyalty');
  const state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
  return openMarketingHarness(state, async () => dir.cleanup());
});
