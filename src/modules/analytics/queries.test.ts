import path from 'node:path';
import { openDuckDbEventStore } from '../../storage/index.ts';
import { makeTempDir } from '../../storage/testing.ts';
import { describeQueryContract } from './queries.contract.testkit.ts';

describeQueryContract('DuckDB', async () => {
  const dir = makeTempDir('candor-analytics');
  const events = await openDuckDbEventStore({ file: path.join(dir.path, 'events.duckdb') });
  return {
    events,
    async close() {
      await events.close();
      dir.cleanup();
    },
  };
});
