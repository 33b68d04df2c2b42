export { createApp, validationError, type AppContext } from './app.ts';
export { createCandor, type Candor, type CandorOptions } from './candor.ts';
export type { ModuleContext } from './context.ts';
export { createDenyAllGuards } from './guards.ts';
export { createMetrics, type Metrics } from './metrics.ts';
export { createModules } from './modules.ts';
export { planRole, type RolePlan } from './roles.ts';
export { lowerBackgroundThreads, type ThreadPriority } from './thread-priority.ts';
export { startServer, type RunningServer, type StartServerOptions } from './start-server.ts';
export {
  ADMIN_FILE,
  adminFilePath,
  isEmbedded,
  readAdminFile,
  startAdminListener,
  type AdminFile,
  type AdminListener,
  type AdminRunRequest,
  type AdminRunner,
  type AdminSink,
} from './admin.ts';
export { rotateKeys, WRAPPED_KEY_COLUMNS, type RotationResult } from './key-rotation.ts';
