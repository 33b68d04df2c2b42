import path from 'node:path';
import { openDuckDbEventStore } from '../../storage/index.ts';
import { makeTempDir } from '../../storage/testing.ts';
import { describeInsights } from './insights.contract.testkit.ts';

describeInsights('DuckDB', async () => {
  const dir = makeTempDir('candor-insights-events');
  const events = await openDuckDbEventStore({ file: path.join(dir.path, 'events.duckdb') });
  return {
    events,
    async close() {
      await events.close();
      dir.cleanup();
    },
  };
});
