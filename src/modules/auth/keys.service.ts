/**
 * Sources and their keys. A public write key (`wk_…`) lets a source send events and consent (it ships in
 * web pages, so it can only write); a secret server key (`sk_…`) carries scopes and acts for a shop's
 * backend. Both are 256-bit random strings shown once and stored as SHA-256 hashes.
 */
import type { Clock } from '../../kernel/clock.ts';
import { randomToken, sha256Hex } from '../../kernel/crypto.ts';
import { AppError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { StateStore } from '../../storage/ports.ts';
import type { AuditWriter } from './deps.ts';
import { SERVER_KEY_SCOPES } from './permissions.ts';
import { authDb } from './store.ts';

export type SourceView = {
  id: string;
  name: string;
  createdAt: number;
  keys: { id: string; prefix: string; createdAt: number; expiresAt: number | null }[];
};
export type ServerKeyView = {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
};

const keyHash = (key: string) => sha256Hex(`candor-key:${key}`);
const WRITE_KEY = /^wk_[A-Za-z0-9_-]{43}$/;
const SERVER_KEY = /^sk_[A-Za-z0-9_-]{43}$/;

/**
 * Default of `writeKeyCacheMs`: how long the write-key guard trusts a key it accepted without asking the
 * store again; the same window as tracking requests (ingest's `writeKeyCacheMs`).
 */
export const WRITE_KEY_CACHE_MS = 1_000;
/** At most this many accepted write keys are remembered (a shop has a handful of sources). */
const WRITE_KEY_CACHE_ENTRIES = 1_000;

export type KeysServiceConfig = {
  /**
   * How long an accepted write key is trusted by `authenticateWriteKey`, ms. A rotation through this
   * process and a key's known expiry apply at once; a rotation or deletion by another process within this
   * time. 0: every request asks the store.
   */
  writeKeyCacheMs?: number;
};

export function createKeysService(
  deps: { state: StateStore; clock: Clock; audit: AuditWriter },
  config: KeysServiceConfig = {},
) {
  const db = authDb(deps.state);
  const now = () => deps.clock.now().getTime();
  // Accepted write keys only: an unknown key is looked up every time, so guessing cannot fill the cache.
  // The key itself is public (it is in every page that loads the SDK); the cache holds no secret.
  const writeKeyCacheMs = Math.max(0, config.writeKeyCacheMs ?? WRITE_KEY_CACHE_MS);
  const acceptedWriteKeys = new Map<string, { sourceId: string; expiresAt: number | null; until: number }>();
  // Bumped by every rotation: a lookup that raced one does not put what it read into the cache.
  let writeKeyGeneration = 0;

  async function newWriteKey(sourceId: string): Promise<{ id: string; key: string }> {
    const key = `wk_${randomToken(32)}`;
    const id = newId('wk');
    await db
      .insertInto('source_write_keys')
      .values({
        id,
        source_id: sourceId,
        key_hash: keyHash(key),
        prefix: key.slice(0, 7),
        created_at: now(),
        expires_at: null,
      })
      .execute();
    return { id, key };
  }

  async function createSource(name: string, actor: string): Promise<{ sourceId: string; writeKey: string }> {
    const clean = name.trim();
    if (clean.length < 1 || clean.length > 100)
      throw new AppError('invalid_request', 'Give the source a name of 1–100 characters, e.g. "web shop".');
    const sourceId = newId('src');
    await db
      .insertInto('sources')
      .values({ id: sourceId, name: clean, created_at: now(), created_by: actor })
      .execute();
    const { key } = await newWriteKey(sourceId);
    await deps.audit.record({
      actor,
      action: 'source.create',
      target: `source:${sourceId}`,
      outcome: 'success',
    });
    await deps.audit.record({
      actor,
      action: 'key.create',
      target: `source:${sourceId}`,
      outcome: 'success',
      details: { kind: 'write' },
    });
    return { sourceId, writeKey: key };
  }

  async function listSources(): Promise<SourceView[]> {
    const sources = await db.selectFrom('sources').selectAll().orderBy('created_at', 'asc').execute();
    const keys = await db
      .selectFrom('source_write_keys')
      .select(['id', 'source_id', 'prefix', 'created_at', 'expires_at'])
      .execute();
    const t = now();
    return sources.map((s) => ({
      id: s.id,
      name: s.name,
      createdAt: Number(s.created_at),
      keys: keys
        .filter((k) => k.source_id === s.id && (k.expires_at === null || Number(k.expires_at) > t))
        .map((k) => ({
          id: k.id,
          prefix: k.prefix,
          createdAt: Number(k.created_at),
          expiresAt: k.expires_at === null ? null : Number(k.expires_at),
        })),
    }));
  }

  /** A new write key; the old ones keep working for `graceSeconds` so deployed pages can be updated. */
  async function rotateWriteKey(
    sourceId: string,
    graceSeconds: number,
    actor: string,
  ): Promise<{ writeKey: string; previousValidUntil: number }> {
    const source = await db.selectFrom('sources').select('id').where('id', '=', sourceId).executeTakeFirst();
    if (!source) throw new AppError('not_found', 'No source has this id. List sources with GET /v1/sources.');
    const until = now() + Math.max(0, graceSeconds) * 1000;
    await db
      .updateTable('source_write_keys')
      .set({ expires_at: until })
      .where('source_id', '=', sourceId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', until)]))
      .execute();
    // The old keys now expire: the next request through the guard reads their expiry from the store.
    writeKeyGeneration += 1;
    for (const [key, hit] of acceptedWriteKeys) if (hit.sourceId === sourceId) acceptedWriteKeys.delete(key);
    const { key } = await newWriteKey(sourceId);
    await deps.audit.record({
      actor,
      action: 'key.rotate',
      target: `source:${sourceId}`,
      outcome: 'success',
      details: { kind: 'write', graceSeconds },
    });
    return { writeKey: key, previousValidUntil: until };
  }

  async function lookUpWriteKey(
    key: string,
  ): Promise<{ source: { sourceId: string }; expiresAt: number | null } | null> {
    if (!WRITE_KEY.test(key)) return null;
    const row = await db
      .selectFrom('source_write_keys')
      .select(['source_id', 'expires_at'])
      .where('key_hash', '=', keyHash(key))
      .executeTakeFirst();
    const expiresAt = row?.expires_at == null ? null : Number(row.expires_at);
    if (!row || (expiresAt !== null && expiresAt <= now())) return null;
    return { source: { sourceId: row.source_id }, expiresAt };
  }

  /**
   * The source a public write key belongs to, or null (unknown, malformed or expired). Every tracking,
   * consent, recommendation, chat and privacy-centre request asks, so a key it accepted is trusted for
   * `writeKeyCacheMs` without a query, never past the key's own expiry (a rotated key in its grace
   * period), and a rotation through this process applies to the next request.
   */
  async function authenticateWriteKey(key: string): Promise<{ sourceId: string } | null> {
    const t = performance.now();
    const hit = acceptedWriteKeys.get(key);
    if (hit !== undefined) {
      if (hit.until > t && (hit.expiresAt === null || hit.expiresAt > now()))
        return { sourceId: hit.sourceId };
      acceptedWriteKeys.delete(key);
    }
    const generation = writeKeyGeneration;
    const found = await lookUpWriteKey(key);
    if (found !== null && writeKeyCacheMs > 0 && generation === writeKeyGeneration) {
      if (acceptedWriteKeys.size >= WRITE_KEY_CACHE_ENTRIES)
        acceptedWriteKeys.delete(acceptedWriteKeys.keys().next().value!);
      acceptedWriteKeys.set(key, {
        sourceId: found.source.sourceId,
        expiresAt: found.expiresAt,
        until: t + writeKeyCacheMs,
      });
    }
    return found?.source ?? null;
  }

  async function createServerKey(
    input: { name: string; scopes: readonly string[] },
    actor: string,
  ): Promise<{ key: string; serverKey: ServerKeyView }> {
    const name = input.name.trim();
    if (name.length < 1 || name.length > 100)
      throw new AppError('invalid_request', 'Give the key a name of 1–100 characters.');
    const unknown = input.scopes.filter((s) => !(SERVER_KEY_SCOPES as readonly string[]).includes(s));
    if (unknown.length > 0 || input.scopes.length === 0) {
      throw new AppError(
        'invalid_request',
        `Scopes must be a non-empty list of: ${SERVER_KEY_SCOPES.join(', ')}.`,
        { details: { unknown: unknown.slice(0, 10) } },
      );
    }
    const key = `sk_${randomToken(32)}`;
    const id = newId('key');
    const scopes = [...new Set(input.scopes)].sort();
    await db
      .insertInto('server_keys')
      .values({
        id,
        name,
        key_hash: keyHash(key),
        prefix: key.slice(0, 7),
        scopes: JSON.stringify(scopes),
        created_by: actor,
        created_at: now(),
        last_used_at: null,
        revoked_at: null,
      })
      .execute();
    await deps.audit.record({
      actor,
      action: 'key.create',
      target: `key:${id}`,
      outcome: 'success',
      details: { kind: 'server', scopes: scopes.join(' ') },
    });
    return {
      key,
      serverKey: {
        id,
        name,
        prefix: key.slice(0, 7),
        scopes,
        createdAt: now(),
        lastUsedAt: null,
        revokedAt: null,
      },
    };
  }

  async function listServerKeys(): Promise<ServerKeyView[]> {
    return (await db.selectFrom('server_keys').selectAll().orderBy('created_at', 'asc').execute()).map(
      (r) => ({
        id: r.id,
        name: r.name,
        prefix: r.prefix,
        scopes: JSON.parse(r.scopes) as string[],
        createdAt: Number(r.created_at),
        lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
        revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
      }),
    );
  }

  async function revokeServerKey(id: string, actor: string): Promise<void> {
    const res = await db
      .updateTable('server_keys')
      .set({ revoked_at: now() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0)
      throw new AppError('not_found', 'No active server key has this id. List keys with GET /v1/keys.');
    await deps.audit.record({
      actor,
      action: 'key.revoke',
      target: `key:${id}`,
      outcome: 'success',
      details: { kind: 'server' },
    });
  }

  async function authenticateServerKey(key: string): Promise<{ keyId: string; scopes: string[] } | null> {
    if (!SERVER_KEY.test(key)) return null;
    const row = await db
      .selectFrom('server_keys')
      .select(['id', 'scopes', 'revoked_at', 'last_used_at'])
      .where('key_hash', '=', keyHash(key))
      .executeTakeFirst();
    if (!row || row.revoked_at !== null) return null;
    const t = now();
    if (row.last_used_at === null || t - Number(row.last_used_at) > 60_000) {
      await db.updateTable('server_keys').set({ last_used_at: t }).where('id', '=', row.id).execute();
    }
    return { keyId: row.id, scopes: JSON.parse(row.scopes) as string[] };
  }

  return {
    createSource,
    listSources,
    rotateWriteKey,
    authenticateWriteKey,
    createServerKey,
    listServerKeys,
    revokeServerKey,
    authenticateServerKey,
  };
}

export type KeysService = ReturnType<typeof createKeysService>;
