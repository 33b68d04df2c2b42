import { abuseCountersContract } from './abuse-counters.contract.ts';
import { createMemoryAbuseCounters } from './abuse-counters.ts';

abuseCountersContract('memory', async (limits) => createMemoryAbuseCounters(limits));
