/**
 * A `pg` pool configured the same way for both PostgreSQL stores: int8/numeric as numbers where exact,
 * timestamps in UTC, and an optional schema (created if missing) first on every connection's search_path,
 * so tests and several installations can share one database.
 */
import pg from 'pg';
import { AppError } from '../../../kernel/errors.ts';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const INT8 = 20;
const NUMERIC = 1700;

function parseInt8(value: string): number | string {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

function parseNumeric(value: string): number | string {
  const n = Number(value);
  // Exact integers beyond 2^53 stay strings; fractional values are decimal approximations either way.
  if (!Number.isFinite(n) || (Number.isInteger(n) && !Number.isSafeInteger(n))) return value;
  return n;
}

const typeParsers = {
  getTypeParser: ((oid: number, format?: string): ((value: string) => unknown) => {
    if (oid === INT8) return parseInt8;
    if (oid === NUMERIC) return parseNumeric;
    return pg.types.getTypeParser(oid, format as 'text') as (value: string) => unknown;
  }) as typeof pg.types.getTypeParser,
};

export function checkSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new AppError(
      'config_invalid',
      `Invalid PostgreSQL schema name "${schema}": use lower-case letters, digits and underscores.`,
    );
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

export type PoolOptions = {
  url: string;
  schema?: string;
  max?: number;
  /**
   * How long getting a connection may take, opening one or waiting for a free one (default 10 s). Beyond it
   * the caller gets an error it turns into 503 + Retry-After, instead of a request that hangs while the
   * database is down or saturated.
   */
  connectTimeoutMs?: number;
};

export async function openPool(options: PoolOptions): Promise<pg.Pool> {
  if (options.schema !== undefined) checkSchemaName(options.schema);
  const searchPath = options.schema ? `-c search_path=${options.schema},public` : '';
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    types: typeParsers,
    options: `${searchPath} -c TimeZone=UTC`.trim(),
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // A server that vanished without closing the socket (host down, network cut) is noticed by TCP keepalive.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  // An idle client that loses its server must not crash the process; the next query reports the problem.
  pool.on('error', () => {});
  // pg-pool listens for errors only on idle clients. A checked-out client whose server goes away (restart,
  // failover, network cut) emits 'error' besides failing its query; without a listener that would kill the
  // process. The failed query already tells its caller, so the event itself needs no handling.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  try {
    if (options.schema) {
      try {
        await pool.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
      } catch (error) {
        // Two processes creating the schema together: one loses the race on the catalog's unique index.
        if ((error as { code?: string }).code !== '23505') throw error;
      }
    } else {
      await pool.query('SELECT 1');
    }
  } catch (cause) {
    await pool.end().catch(() => undefined);
    throw new AppError(
      'unavailable',
      `Cannot reach PostgreSQL at ${redactUrl(options.url)}: ${(cause as Error).message}. Check the URL and that the server is running.`,
      { cause },
    );
  }
  return pool;
}
