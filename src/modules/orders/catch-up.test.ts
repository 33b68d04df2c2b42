import path from 'node:path';
import { openDuckDbEventStore, openSqliteStateStore } from '../../storage/index.ts';
import { makeTempDir } from '../../storage/testing.ts';
import { catchUpContract } from './catch-up.contract.testkit.ts';

catchUpContract('SQLite + DuckDB', async () => {
  const dir = makeTempDir('candor-orders-catch-up');
  const state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
  const events = await openDuckDbEventStore({ file: path.join(dir.path, 'events.duckdb') });
  return {
    state,
    events,
    async close() {
      await events.close();
      await state.close();
      dir.cleanup();
    },
  };
});
