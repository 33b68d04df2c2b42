export { createApp, validationError, type AppContext } from './app.ts';
export { createCandor, type Candor, type CandorOptions } from './candor.ts';
export type { ModuleContext } from './context.ts';
export { createDenyAllGuards } from './guards.ts';
export { createMetrics, type Metrics } from './metrics.ts';
export { createModules } from './modules.ts';
export { startServer, type RunningServer, type StartServerOptions } from './start-server.ts';
