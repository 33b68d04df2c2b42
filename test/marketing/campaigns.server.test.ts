import { campaignsContract } from './campaigns.contract.testkit.ts';
import { postgresStores } from './campaigns.kit.ts';

campaignsContract('PostgreSQL', postgresStores);
