/**
 * HTTP types shared by every module's routes: the Hono environment (request id, logger, who is calling)
 * and the guards a module receives from the composition root to protect its routes.
 */
import type { MiddlewareHandler } from 'hono';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from './logger.ts';

export type StaffRole =
  'owner' | 'admin' | 'analyst' | 'marketer' | 'support' | 'privacy_officer' | 'security_officer';

/** Who is calling. Ids here are internal ids or pseudonyms, never raw personal data. */
export type Principal =
  | { kind: 'staff'; staffId: string; role: StaffRole; sessionId: string | null; apiKeyId: string | null }
  | { kind: 'shopper'; userId: string; subjectId: string }
  | { kind: 'source'; sourceId: string }
  | { kind: 'server_key'; keyId: string; scopes: readonly string[] };

export type AppVariables = {
  requestId: string;
  logger: Logger;
  principal: Principal | undefined;
  /** The client's address: the connection's peer, or the client a trusted proxy names (kernel/client-address). */
  clientIp: string;
};

export type AppEnv = { Variables: AppVariables };

export type Router = OpenAPIHono<AppEnv>;

/**
 * Guards the composition root hands to modules. `staff(permission)` admits staff whose role grants the
 * permission; `shopper` admits a valid shopper token; `writeKey` admits a source's public write key.
 */
export type Guards = {
  staff(permission: string): MiddlewareHandler<AppEnv>;
  shopper: MiddlewareHandler<AppEnv>;
  writeKey: MiddlewareHandler<AppEnv>;
};
