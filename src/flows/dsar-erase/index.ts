export { createErasureFlow, verifyReceipt } from './dsar-erase.flow.ts';
export type { ErasureFlow, ErasureFlowDeps, ErasureFlowConfig } from './dsar-erase.flow.ts';
