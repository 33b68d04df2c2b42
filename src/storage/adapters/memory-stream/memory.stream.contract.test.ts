import { describeStreamContract } from '../../contract/stream.contract.ts';
import { createMemoryStream } from './memory.stream.ts';

describeStreamContract('memory', async () => {
  const stream = createMemoryStream({ redeliveryDelayMs: 20 });
  return { stream, cleanup: () => stream.close() };
});
