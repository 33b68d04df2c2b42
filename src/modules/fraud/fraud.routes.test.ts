import path from 'node:path';
import { openSqliteStateStore } from '../../storage/index.ts';
import { makeTempDir } from '../../storage/testing.ts';
import { fraudContract } from './fraud.contract.testkit.ts';
import { openFraudHarness } from './fraud.testkit.ts';

fraudContract('SQLite', async () => {
  const dir = makeTempDir('candor-fraud');
  const state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
  return openFraudHarness(state, async () => dir.cleanup());
});
