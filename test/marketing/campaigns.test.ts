import { campaignsContract } from './campaigns.contract.testkit.ts';
import { embeddedStores } from './campaigns.kit.ts';

campaignsContract('SQLite + DuckDB', embeddedStores);
