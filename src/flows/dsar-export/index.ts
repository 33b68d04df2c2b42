export { createExportFlow } from './dsar-export.flow.ts';
export type { ExportFlow, ExportFlowDeps, ExportDocument } from './dsar-export.flow.ts';
