export { createAuthModule } from './auth.module.ts';
export type { AuthModule, AuthModuleDeps, AuthModuleConfig } from './auth.module.ts';
export type { AuthService, StaffView } from './auth.service.ts';
export type { KeysService } from './keys.service.ts';
export type { AuditWriter, AuditRecord } from './deps.ts';
export { createGuards, WRITE_KEY_LIMIT, WRITE_KEY_RULE } from './guards.ts';
export type { GuardDeps, GuardConfig } from './guards.ts';
export { createAbuseDetector, DEFAULT_THRESHOLDS } from './abuse.service.ts';
export type { AbuseDetector, AbuseThresholds, SecurityAlert, AlertKind } from './abuse.service.ts';
export {
  createRateLimiter,
  createRateLimitStore,
  createMemoryRateLimitStore,
  createRedisRateLimitStore,
  rateLimit,
} from './rate-limit.ts';
export type { RateLimiter, RateLimitStore, RateLimitOptions, BucketRule, TakeResult } from './rate-limit.ts';
export { signShopperToken, verifyShopperToken, parseTtl } from './shopper-token.ts';
export { ROLE_PERMISSIONS, PERMISSIONS, STAFF_ROLES, roleHas, isStaffRole } from './permissions.ts';
export type { Permission } from './permissions.ts';
export { ARGON2_PARAMS, passwordProblem } from './password.ts';
export { SESSION_COOKIE, CSRF_HEADER, clientIp, ipKey } from './request.ts';
export { staffCreateCommand, sourceCreateCommand, shopperTokenCommand } from './cli.ts';
export { authMigrations } from './store.ts';
export { ROUTE_LIMITS, ruleOf } from './route-limits.ts';
export type { RouteLimit } from './route-limits.ts';
