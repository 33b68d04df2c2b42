/**
 * What the `candor` command calls (DESIGN §9). Each returns the exact JSON document the command prints.
 */
import { AppError } from '../../kernel/errors.ts';
import type { AuthModule } from './auth.module.ts';
import { parseTtl, signShopperToken, SHOPPER_TOKEN_MAX_TTL_S } from './shopper-token.ts';

/** `candor staff create --email E --role R --password-stdin --json` → `{"id","totpUri"}`. */
export async function staffCreateCommand(
  auth: AuthModule,
  input: { email: string; role: string; password: string },
): Promise<{ id: string; totpUri: string }> {
  const r = await auth.service.createStaff(
    { ...input, password: input.password.replace(/\r?\n$/, '') },
    'cli',
  );
  return { id: r.id, totpUri: r.totpUri };
}

/** `candor source create --name NAME --json` → `{"sourceId","writeKey"}`. */
export async function sourceCreateCommand(
  auth: AuthModule,
  input: { name: string },
): Promise<{ sourceId: string; writeKey: string }> {
  return auth.keys.createSource(input.name, 'system:cli');
}

/** `candor shopper-token --user ID [--ttl 15m] --json` → `{"token"}`. */
export async function shopperTokenCommand(
  config: { secrets: { shopperTokenSecret?: string | undefined } },
  input: { user: string; ttl?: string | undefined },
  nowMs: number = Date.now(),
): Promise<{ token: string }> {
  const secret = config.secrets.shopperTokenSecret;
  if (!secret)
    throw new AppError('missing_secret', 'Set the shopper-token secret (CANDOR_SHOPPER_TOKEN_SECRET) first.');
  const ttl = parseTtl(input.ttl ?? '15m');
  if (ttl === null || ttl < 1 || ttl > SHOPPER_TOKEN_MAX_TTL_S) {
    throw new AppError(
      'invalid_request',
      `--ttl must be like 15m, 2h or 900s, at most ${SHOPPER_TOKEN_MAX_TTL_S / 3600}h.`,
    );
  }
  if (input.user.length < 1 || input.user.length > 256)
    throw new AppError('invalid_request', '--user must be the shop customer id (1–256 characters).');
  return { token: await signShopperToken(secret, input.user, ttl, nowMs) };
}
