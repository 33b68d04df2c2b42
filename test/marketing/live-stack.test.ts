import { liveStackContract } from './live-stack.contract.testkit.ts';

liveStackContract('SQLite + DuckDB', async () => ({}));
