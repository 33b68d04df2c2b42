import { embeddedStores } from './campaigns.kit.ts';
import { segmentsContract } from './segments.contract.testkit.ts';

segmentsContract('SQLite + DuckDB', embeddedStores);
