import { postgresStores } from './campaigns.kit.ts';
import { segmentsContract } from './segments.contract.testkit.ts';

segmentsContract('PostgreSQL', postgresStores);
