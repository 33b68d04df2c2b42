/**
 * Guards used until the auth module provides real ones: every guarded route answers 401, so nothing is
 * ever open by accident while authentication is not wired.
 */
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../kernel/errors.ts';
import type { AppEnv, Guards } from '../kernel/http.ts';

function deny(what: string): MiddlewareHandler<AppEnv> {
  return async () => {
    throw new AppError(
      'unauthorized',
      `This endpoint needs ${what}, and no authentication method is configured on this server yet.`,
    );
  };
}

export function createDenyAllGuards(): Guards {
  return {
    staff: (permission) => deny(`a staff session or API key with the '${permission}' permission`),
    shopper: deny('a shopper token (Authorization: Bearer …)'),
    writeKey: deny("a source's write key"),
  };
}
