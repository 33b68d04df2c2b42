/**
 * Configuration: one zod schema, read from CANDOR_* environment variables and an optional JSON file
 * (CANDOR_CONFIG_FILE or --config), parsed once at boot. This is the only module that reads process.env.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { FORWARDED_HEADERS, trustedProxyProblem } from './client-address.ts';
import { AppError } from './errors.ts';

const base64Key32 = z
  .string()
  .refine((s) => Buffer.from(s, 'base64').length === 32, 'must be 32 random bytes, base64-encoded');

export const SecretsSchema = z.object({
  /** Key-encryption key: wraps every per-subject data key. */
  kek: base64Key32.optional(),
  /** Older KEKs, still able to unwrap data keys until `candor keys rotate` has re-wrapped them. */
  previousKeks: z.array(base64Key32).default([]),
  /** HMAC key for pseudonymous subject ids. */
  pseudonymKey: base64Key32.optional(),
  /** Signs staff session and CSRF tokens. */
  sessionSecret: base64Key32.optional(),
  /** HS256 secret the shop's backend uses to mint shopper tokens. */
  shopperTokenSecret: base64Key32.optional(),
  /** Ed25519 private key (PKCS#8 PEM) that signs erasure receipts and audit checkpoints. */
  signingKey: z.string().optional(),
});

export const REQUIRED_SECRETS = [
  'kek',
  'pseudonymKey',
  'sessionSecret',
  'shopperTokenSecret',
  'signingKey',
] as const;
export type SecretName = (typeof REQUIRED_SECRETS)[number];

const SECRET_ENV: Record<SecretName | 'previousKeks', string> = {
  kek: 'CANDOR_KEK',
  previousKeks: 'CANDOR_PREVIOUS_KEKS',
  pseudonymKey: 'CANDOR_PSEUDONYM_KEY',
  sessionSecret: 'CANDOR_SESSION_SECRET',
  shopperTokenSecret: 'CANDOR_SHOPPER_TOKEN_SECRET',
  signingKey: 'CANDOR_SIGNING_KEY',
};

/** A Meta messaging channel (WhatsApp Cloud API or Instagram Messaging) for the chatbot. */
const MessagingChannelSchema = z.object({
  verifyToken: z.string().min(8, 'use a verify token of at least 8 characters'),
  appSecret: z.string().min(8),
  accessToken: z.string().min(8),
  baseUrl: z.string().url().optional(),
  apiVersion: z
    .string()
    .regex(/^v\d+\.\d+$/, 'like v21.0')
    .optional(),
});

export const ConfigSchema = z.object({
  env: z.enum(['development', 'test', 'production']).default('development'),
  dataDir: z.string().min(1).default('./.candor-data'),
  host: z.string().default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(4700),
  role: z.enum(['api', 'worker', 'all']).default('all'),
  /** postgres://… for server mode; absent means SQLite in the data directory. */
  stateUrl: z.string().optional(),
  /** postgres://… for server mode; absent means DuckDB in the data directory. */
  eventsUrl: z.string().optional(),
  /** PostgreSQL schema for both stores (several installations, or isolated tests, in one database). */
  pgSchema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'use lower-case letters, digits and underscores')
    .optional(),
  /** nats://… for server mode; absent means the in-process queue. */
  streamUrl: z.string().optional(),
  /** redis://… to share rate limits between API processes. */
  redisUrl: z.string().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /**
   * Nice value a serving process gives its threads other than the one that answers requests (DuckDB,
   * the file and database pool, garbage collection), so that bursts of background work wait for requests
   * rather than the other way round. 0 leaves every thread as it is. Linux only.
   */
  backgroundThreadNice: z.coerce.number().int().min(0).max(19).default(10),
  /**
   * Reverse proxies in front of Candor (addresses, CIDR ranges, `loopback`, `private`). A request whose
   * connection comes from one of them is attributed to the client its X-Forwarded-For names, so rate
   * limits and abuse alerts apply per shopper and per staff member rather than to the proxy. Empty: the
   * header is ignored (anyone can send it).
   */
  trustedProxies: z
    .array(
      z.string().superRefine((entry, ctx) => {
        const problem = trustedProxyProblem(entry);
        if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
      }),
    )
    .default([]),
  /**
   * The header the trusted proxies name the client in: `x-forwarded-for` (nginx, Caddy, most load
   * balancers) or `forwarded` (RFC 7239). Only this one is read.
   */
  forwardedHeader: z.enum(FORWARDED_HEADERS).default('x-forwarded-for'),
  /** How long shutdown waits for in-flight requests, in ms. */
  shutdownGraceMs: z.coerce.number().int().nonnegative().default(10_000),
  tls: z.object({ certFile: z.string(), keyFile: z.string() }).optional(),
  /** Overrides of the token-bucket limits by bucket name (see src/modules/auth/route-limits.ts). */
  rateLimits: z
    .record(z.string(), z.object({ capacity: z.number().positive(), refillPerSec: z.number().positive() }))
    .optional(),
  publicUrl: z.string().url().optional(),
  /** SMTP relay for e-mail campaigns, e.g. smtp://user:pass@relay.example:587, and the From address. */
  smtpUrl: z.string().url().optional(),
  smtpFrom: z.string().min(3).optional(),
  privacy: z
    .object({
      /** Aggregates over fewer shoppers than this are suppressed for non-privileged roles. */
      kAnonymity: z.coerce.number().int().min(1).default(10),
      /**
       * Up to this many stored events, an erasure or retention run rewrites the event file itself (its
       * receipt says "purged"); above it, the hourly purge job does (the receipt says "scheduled").
       */
      inlinePurgeMaxEvents: z.coerce.number().int().min(0).optional(),
    })
    .default({ kAnonymity: 10 }),
  /** The chatbot's optional outside connections (set in the config file; each is off when absent). */
  chatbot: z
    .object({
      whatsapp: z.lazy(() => MessagingChannelSchema).optional(),
      instagram: z.lazy(() => MessagingChannelSchema).optional(),
      /** OpenAI-compatible endpoint that phrases FAQ answers (only FAQ text + the redacted turn are sent). */
      llm: z
        .object({
          baseUrl: z.string().url(),
          model: z.string().min(1),
          apiKey: z.string().min(1).optional(),
          timeoutMs: z.number().int().positive().optional(),
        })
        .optional(),
    })
    .optional(),
  secrets: SecretsSchema.default({ previousKeks: [] }),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ResolvedSecrets = Required<Omit<z.infer<typeof SecretsSchema>, 'signingKey'>> & {
  signingKey: string;
};
/** Config after boot: every secret present. */
export type RuntimeConfig = Omit<Config, 'secrets'> & { secrets: ResolvedSecrets };

type Env = Record<string, string | undefined>;

/** A comma-separated variable as a list (blanks dropped). */
const listOf = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Maps CANDOR_* variables onto the schema's shape (strings; zod coerces). */
function fromEnv(env: Env): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined && value !== '') out[key] = value;
  };
  set('env', env.CANDOR_ENV);
  set('dataDir', env.CANDOR_DATA_DIR);
  set('host', env.CANDOR_HOST);
  set('port', env.CANDOR_PORT);
  set('role', env.CANDOR_ROLE);
  set('stateUrl', env.CANDOR_STATE_URL);
  set('eventsUrl', env.CANDOR_EVENTS_URL);
  set('streamUrl', env.CANDOR_STREAM_URL);
  set('pgSchema', env.CANDOR_PG_SCHEMA);
  set('redisUrl', env.CANDOR_REDIS_URL);
  set('logLevel', env.CANDOR_LOG_LEVEL);
  set('bodyLimitBytes', env.CANDOR_BODY_LIMIT_BYTES);
  set('backgroundThreadNice', env.CANDOR_BACKGROUND_THREAD_NICE);
  if (env.CANDOR_TRUSTED_PROXIES) out.trustedProxies = listOf(env.CANDOR_TRUSTED_PROXIES);
  if (env.CANDOR_FORWARDED_HEADER) out.forwardedHeader = env.CANDOR_FORWARDED_HEADER.trim().toLowerCase();
  set('publicUrl', env.CANDOR_PUBLIC_URL);
  set('smtpUrl', env.CANDOR_SMTP_URL);
  set('smtpFrom', env.CANDOR_SMTP_FROM);
  if (env.CANDOR_TLS_CERT_FILE && env.CANDOR_TLS_KEY_FILE) {
    out.tls = { certFile: env.CANDOR_TLS_CERT_FILE, keyFile: env.CANDOR_TLS_KEY_FILE };
  }
  const privacy: Record<string, unknown> = {};
  if (env.CANDOR_K_ANONYMITY) privacy.kAnonymity = env.CANDOR_K_ANONYMITY;
  if (env.CANDOR_INLINE_PURGE_MAX_EVENTS) privacy.inlinePurgeMaxEvents = env.CANDOR_INLINE_PURGE_MAX_EVENTS;
  if (Object.keys(privacy).length > 0) out.privacy = privacy;
  const secrets: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(SECRET_ENV)) {
    const v = env[variable];
    if (v === undefined || v === '') continue;
    secrets[name] = name === 'previousKeks' ? listOf(v) : v;
  }
  if (Object.keys(secrets).length > 0) out.secrets = secrets;
  return out;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      prev &&
      typeof prev === 'object' &&
      !Array.isArray(prev)
        ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export type LoadConfigOptions = {
  /** Defaults to the process environment. */
  env?: Env;
  /** A JSON config file; CANDOR_CONFIG_FILE when absent. */
  file?: string;
  /** Highest precedence (command-line flags). */
  overrides?: Record<string, unknown>;
};

/** Parses configuration once: file < environment < overrides. Throws config_invalid with every problem listed. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.CANDOR_CONFIG_FILE;
  let fromFile: Record<string, unknown> = {};
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (cause) {
      throw new AppError('config_invalid', `Cannot read config file ${file}: it must be a JSON object.`, {
        cause,
      });
    }
  }
  const merged = deepMerge(deepMerge(fromFile, fromEnv(env)), options.overrides ?? {});
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new AppError('config_invalid', `Invalid configuration: ${problems}`);
  }
  return parsed.data;
}

export function missingSecrets(config: Config): SecretName[] {
  return REQUIRED_SECRETS.filter((name) => !config.secrets[name]);
}

/** Fresh secrets of the right shapes (development bootstrap and `candor secrets generate`). */
export function generateSecrets(): Record<SecretName, string> {
  const key = () => randomBytes(32).toString('base64');
  const { privateKey } = generateKeyPairSync('ed25519');
  return {
    kek: key(),
    pseudonymKey: key(),
    sessionSecret: key(),
    shopperTokenSecret: key(),
    signingKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

export type SecretsResolution = { config: RuntimeConfig; generatedFile: string | undefined };

/**
 * Makes sure every secret is present. In development, missing ones are generated once into
 * <dataDir>/secrets.json (mode 0600) so a fresh clone starts with no setup; in test and production a
 * missing secret is a refusal to start that names every missing variable.
 */
export function resolveSecrets(config: Config): SecretsResolution {
  let generatedFile: string | undefined;
  let secrets = { ...config.secrets };
  if (config.env === 'development' && missingSecrets(config).length > 0) {
    const file = path.join(config.dataDir, 'secrets.json');
    let stored: Partial<Record<SecretName, string>>;
    if (existsSync(file)) {
      stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Record<SecretName, string>>;
    } else {
      mkdirSync(config.dataDir, { recursive: true });
      stored = generateSecrets();
      writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
      chmodSync(file, 0o600);
      generatedFile = file;
    }
    secrets = {
      ...stored,
      ...(Object.fromEntries(Object.entries(secrets).filter(([, v]) => v !== undefined)) as typeof secrets),
    };
  }
  const missing = REQUIRED_SECRETS.filter((name) => !secrets[name]);
  if (missing.length > 0) {
    throw new AppError(
      'missing_secret',
      `Refusing to start in ${config.env} without secrets: ${missing.map((m) => `${m} (${SECRET_ENV[m]})`).join(', ')}. ` +
        'Generate them with `candor secrets generate` and set them in the environment or the config file.',
      { details: { missing } },
    );
  }
  return { config: { ...config, secrets: secrets as ResolvedSecrets }, generatedFile };
}

/** A complete, valid configuration for tests: fresh secrets, test env, a given data dir. */
export function testConfig(dataDir: string, overrides: Record<string, unknown> = {}): RuntimeConfig {
  const config = loadConfig({
    env: {},
    overrides: deepMerge({ env: 'test', dataDir, logLevel: 'silent', secrets: generateSecrets() }, overrides),
  });
  return resolveSecrets(config).config;
}

export type TestEnv = {
  pgUrl: string | undefined;
  natsUrl: string | undefined;
  redisUrl: string | undefined;
};

/** Service URLs for the server-mode test suites (CANDOR_TEST_PG_URL, CANDOR_TEST_NATS_URL, CANDOR_TEST_REDIS_URL). */
export function testEnv(env: Env = process.env): TestEnv {
  const pick = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  return {
    pgUrl: pick(env.CANDOR_TEST_PG_URL),
    natsUrl: pick(env.CANDOR_TEST_NATS_URL),
    redisUrl: pick(env.CANDOR_TEST_REDIS_URL),
  };
}
