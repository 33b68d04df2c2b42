import { openSqliteStateStore } from '../../storage/index.ts';
import { makeTempDir } from '../../storage/testing.ts';
import { consentContract } from './consent.contract.testkit.ts';

consentContract(
  'SQLite',
  async () => {
    const dir = makeTempDir('candor-consent');
    const state = await openSqliteStateStore({ file: `${dir.path}/state.sqlite` });
    return {
      state,
      cleanup: async () => {
        await state.close();
        dir.cleanup();
      },
    };
  },
  { sharedStore: false },
);
