import path from 'node:path';
import { openSqliteStateStore } from '../../storage/index.ts';
import { makeTempDir } from '../../storage/testing.ts';
import { experimentsContract } from './experiments.contract.testkit.ts';
import { openMarketingHarness } from './marketing.testkit.ts';

experimentsContract('SQLite', async () => {
  const dir = makeTempDir('candor-exp');
  const state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
  return openMarketingHarness(state, async () => dir.cleanup());
});
